// Package connections manages Airbyte sources, destinations and connections
// as code, as Dagster's managed elements and Airbyte's Terraform provider
// do: a [Config] (Go values, or a YAML file read by [Load]) declares them
// by name; [Reconciler.Plan] compares the declaration with a workspace and
// returns what differs; [Reconciler.Apply] makes the workspace match.
//
//	workspace_id: 5ae6b09b-fdec-41af-aaf7-7d94cfc33ef6
//	sources:
//	  faker:
//	    type: source-faker
//	    config: {count: 1000, seed: 7}
//	destinations:
//	  warehouse:
//	    type: destination-postgres
//	    config:
//	      host: db.internal
//	      port: 5432
//	      database: analytics
//	      schema: raw
//	      username: airbyte
//	      password: secret_reference::WAREHOUSE_PASSWORD
//	connections:
//	  faker-to-warehouse:
//	    source: faker
//	    destination: warehouse
//	    schedule: "0 0 * * * ?"      # or manual (the default)
//	    prefix: faker_
//	    streams:
//	      users: {sync_mode: incremental_deduped_history, cursor_field: [updated_at], primary_key: [[id]]}
//	      products: {sync_mode: full_refresh_overwrite}
//
// Objects are matched by name within the workspace; two objects of a name
// the Config declares are an error naming their ids, since the plan could
// not tell which one the declaration means. Several objects of a name it
// does not declare are left alone, as any undeclared object is; with
// [DeleteUnmentioned] each of them is deleted, the plan saying which one
// by its id. The plan prints like Dagster's: "+ key: value" for an
// addition, "- key: value" for a deletion, "~ key: old -> new" for a change,
// nested groups indented by two, at each level additions, then deletions,
// then changes — sorted by key and with streams diffed by name, so that
// the same state always prints the same plan.
//
// Rules:
//   - Which fields are secret comes from the connector's spec (fields
//     marked airbyte_secret, inside oneOf branches and array items too —
//     an array holding one is secret whole), from the server's
//     masking and from secret_reference values — never from key names.
//     A secret is never printed. Since the server returns secrets masked,
//     one cannot be compared; it shows as "(secret: not comparable)" unless
//     the state file (WithStateFile) holds an HMAC of the value last
//     applied to that object (by its id: not to another of its name made
//     since), which tells "(secret: changed)" from unchanged. An unchanged
//     secret is sent as the mask, so that the server keeps it. A secret
//     changed in the workspace behind the file's back is not seen (the
//     plan compares the file with what it last applied, and the server
//     shows neither), and is kept: change it in the file to send it again.
//   - Each declared config, its references resolved, is checked against
//     the spec of its connector as the workspace has it, as Airbyte checks
//     one it is sent: a config that does not match fails the Plan with a
//     *kit.InvalidConfigError naming each field and the rule it breaks
//     (never a value), where Apply would fail midway.
//   - A change of a source's or destination's type replaces it (delete,
//     then create), and with it every connection that uses it.
//   - Objects the Config does not declare are left alone unless
//     [DeleteRemoved] or [DeleteUnmentioned] is given; their deletions come
//     first in the plan, connections before what they use. An object whose
//     declaration was removed from the Config is one of them.
//     DeleteRemoved deletes only such an object: one the state file
//     (WithStateFile) records as declared at an Apply, by kind, name and
//     id, that the workspace still has under that name and id; the plan
//     says "(removed from the file that applied it)". Terraform does the
//     same by default; here it is asked for, since removing a declaration
//     used to leave the object alone, and files were trimmed so.
//     DeleteUnmentioned deletes every undeclared object of the workspace,
//     other teams' too. The connections of a source or destination that is
//     replaced or deleted go with it all the same (Airbyte deletes them),
//     and the plan lists them.
//   - What DeleteRemoved does not delete: an object deleted, made again
//     or renamed behind the Config's back (its id is no longer under that
//     name: there is nothing of the Config's to delete, so the plan, which
//     lists only what Apply changes, says nothing, and Apply forgets it);
//     objects the state does not record (another team's; all of them with
//     a state file of an older version, which kept no ids, until an Apply
//     records the declared ones: a plan without changes is worth applying).
//     Renaming an object in the Config alone is a removal and an addition:
//     the plan deletes it and creates the new name, and a connection
//     made again loses its jobs' history and its state. To keep it, rename
//     it in Airbyte first. Moving a declaration to another file (another
//     state file) is a removal for the first file: apply the other file,
//     then delete the object's "kind/name" key from the first state file's
//     "ids" before applying the first with DeleteRemoved.
//   - Apply saves the state file after each change, and forgets what it
//     deleted, so that after a failure midway the next plan lists what is
//     left to do.
//   - Schedules are managed: an undeclared schedule means manual.
//   - Stream fields left empty (a cursor, a primary key) are the server's to
//     choose and are not compared.
package connections
