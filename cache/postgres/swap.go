package postgres

import (
	"context"

	"github.com/x/goairbyte/cache/internal/backend"
)

// ViewsOver makes the backend a backend.SwapKeeper: the views and
// materialized views whose rules read each table, which PostgreSQL will
// not let a replace's swap drop, and the publications that name the table
// and that KeepGrants cannot add the new table to: dropped, the table
// leaves them, and the new one is not in them (a DBA's logical
// replication of it stops, silently). KeepGrants can add it to a
// publication the role owns (ALTER PUBLICATION needs the owner) that
// publishes all the table's columns and rows (a column list or row filter
// of PostgreSQL 15 is not carried over). A publication of all tables, or
// of the schema's, takes the new table by itself. One query for all the
// tables: 0.5 ms a query here, which a load of a thousand replace streams
// would pay twice each.
func (b *database) ViewsOver(ctx context.Context, tables []string) (map[string][]backend.View, error) {
	qualified := make([]string, len(tables))
	for i, t := range tables {
		qualified[i] = b.Qualify(t)
	}
	rows, err := b.db.QueryContext(ctx, `SELECT DISTINCT t.name, format('%I.%I', n.nspname, v.relname), v.relkind = 'm', false
FROM unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS t(name, qualified)
JOIN pg_depend d ON d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass(t.qualified)
JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
JOIN pg_class v ON v.oid = r.ev_class AND v.oid <> d.refobjid
JOIN pg_namespace n ON n.oid = v.relnamespace
UNION
SELECT t.name, quote_ident(p.pubname), false, true
FROM unnest(CAST($1 AS text[]), CAST($2 AS text[])) AS t(name, qualified)
JOIN pg_publication_rel pr ON pr.prrelid = to_regclass(t.qualified)
JOIN pg_publication p ON p.oid = pr.prpubid
WHERE NOT (`+carriedPublication+`)
ORDER BY 1, 2`, tables, qualified)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	views := map[string][]backend.View{}
	for rows.Next() {
		var table string
		var v backend.View
		if err := rows.Scan(&table, &v.Name, &v.Materialized, &v.Publication); err != nil {
			return nil, err
		}
		views[table] = append(views[table], v)
	}
	return views, rows.Err()
}

// carriedPublication is the condition, on pg_publication p and its
// pg_publication_rel pr, that KeepGrants can add the new table to p: the
// role has its owner's privileges, and pr has no column list or row filter
// (read through to_jsonb, as servers before 15 have neither column).
const carriedPublication = `pg_has_role(p.pubowner, 'USAGE') AND to_jsonb(pr)->>'prqual' IS NULL AND to_jsonb(pr)->>'prattrs' IS NULL`

// KeepGrants makes the backend a backend.SwapKeeper: each privilege
// granted on table to a role other than its owner (or to PUBLIC) is
// granted on staging, with its grant option, so that a role granted to
// read a stream's table still may after a replace. Column privileges are
// not carried over. Staging is added to the publications that name table
// and that the role owns (ViewsOver refuses the others before the load).
func (b *database) KeepGrants(ctx context.Context, tx backend.Tx, table, staging string) error {
	t := tx.(*txn)
	rows, err := t.tx.Query(ctx, `SELECT a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(r.rolname) END, a.is_grantable
FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a LEFT JOIN pg_roles r ON r.oid = a.grantee
WHERE c.oid = to_regclass($1) AND a.grantee <> c.relowner
ORDER BY 2, 1`, b.Qualify(table))
	if err != nil {
		return err
	}
	var grants []string
	for rows.Next() {
		var privilege, grantee string
		var grantable bool
		if err := rows.Scan(&privilege, &grantee, &grantable); err != nil {
			rows.Close()
			return err
		}
		g := "GRANT " + privilege + " ON " + b.Qualify(staging) + " TO " + grantee
		if grantable {
			g += " WITH GRANT OPTION"
		}
		grants = append(grants, g)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = t.tx.Query(ctx, `SELECT quote_ident(p.pubname) FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid
WHERE pr.prrelid = to_regclass($1) AND `+carriedPublication+` ORDER BY 1`, b.Qualify(table))
	if err != nil {
		return err
	}
	for rows.Next() {
		var pub string
		if err := rows.Scan(&pub); err != nil {
			rows.Close()
			return err
		}
		grants = append(grants, "ALTER PUBLICATION "+pub+" ADD TABLE "+b.Qualify(staging))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, g := range grants {
		if err := t.Exec(ctx, g); err != nil {
			return err
		}
	}
	return nil
}
