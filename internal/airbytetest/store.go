package airbytetest

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/x/goairbyte/internal/specsecret"
	"github.com/x/goairbyte/kit"
	"github.com/x/goairbyte/protocol"
)

type workspaceRec struct {
	ID   string
	Name string
}

// actor is a source or a destination; Config holds the secrets in clear.
type actor struct {
	ID          string
	Name        string
	Def         *definition
	WorkspaceID string
	Config      map[string]any
	CreatedAt   int64
}

type connRec struct {
	ID, Name, SourceID, DestinationID, WorkspaceID string
	Status                                         string
	Schedule                                       map[string]any
	NamespaceDefinition, NamespaceFormat, Prefix   string
	Streams                                        []map[string]any
	CreatedAt                                      int64
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func (s *Server) newWorkspace(name string) *workspaceRec {
	w := &workspaceRec{ID: newUUID(), Name: name}
	s.workspaces = append(s.workspaces, w)
	return w
}

// register registers the handlers of both APIs.
func (s *Server) register() {
	handle := s.routes.Handle
	handle("POST /applications/token", s.token)
	handle("GET /workspaces", s.listWorkspaces)
	handle("GET /workspaces/{id}", s.getWorkspace)
	handle("GET /workspaces/{id}/definitions/sources", s.listDefinitions("source"))
	handle("GET /workspaces/{id}/definitions/destinations", s.listDefinitions("destination"))
	for _, kind := range []string{"source", "destination"} {
		handle("GET /"+kind+"s", s.listActors(kind))
		handle("POST /"+kind+"s", s.createActor(kind))
		handle("GET /"+kind+"s/{id}", s.getActor(kind))
		handle("PATCH /"+kind+"s/{id}", s.updateActor(kind, false))
		handle("PUT /"+kind+"s/{id}", s.updateActor(kind, true))
		handle("DELETE /"+kind+"s/{id}", s.deleteActor(kind))
	}
	handle("GET /connections", s.listConnections)
	handle("POST /connections", s.createConnection)
	handle("GET /connections/{id}", s.getConnection)
	handle("PATCH /connections/{id}", s.patchConnection)
	handle("DELETE /connections/{id}", s.deleteConnection)
	handle("GET /jobs", s.listJobs)
	handle("POST /jobs", s.createJob)
	handle("GET /jobs/{id}", s.getJob)
	handle("DELETE /jobs/{id}", s.cancelJob)
	for _, kind := range []string{"source", "destination"} {
		k := kind
		s.routes.HandleAt(ConfigPrefix, "POST /v1/"+k+"_definition_specifications/get", func(w http.ResponseWriter, r *http.Request) { s.definitionSpec(w, r, k) })
	}
	s.routes.HandleAt(ConfigPrefix, "POST /v1/jobs/get_without_logs", s.jobInfo)
}

// IgnoreOffset makes the listings answer every request with their first
// page and a next link, as a server or proxy that drops the offset
// parameter would: a client that trusts the next link pages forever.
func (s *Server) IgnoreOffset() {
	s.mu.Lock()
	s.ignoreOffset = true
	s.mu.Unlock()
}

// paged writes one page of items with Airbyte's limit/offset and next link.
func (s *Server) paged(w http.ResponseWriter, r *http.Request, items []map[string]any) {
	q := r.URL.Query()
	limit, offset := 20, 0
	if v, err := strconv.Atoi(q.Get("limit")); err == nil {
		limit = v
	}
	s.mu.Lock()
	ignore := s.ignoreOffset
	s.mu.Unlock()
	if v, err := strconv.Atoi(q.Get("offset")); err == nil && !ignore {
		offset = v
	}
	page := []map[string]any{}
	if offset < len(items) {
		page = items[offset:min(offset+limit, len(items))]
	}
	out := map[string]any{"data": page}
	link := func(off int) string {
		q2 := url.Values{}
		for k, v := range q {
			q2[k] = v
		}
		q2.Set("offset", strconv.Itoa(off))
		q2.Set("limit", strconv.Itoa(limit))
		return "http://" + r.Host + r.URL.Path + "?" + q2.Encode()
	}
	if offset+limit < len(items) {
		out["next"] = link(offset + limit)
	}
	if offset > 0 {
		out["previous"] = link(max(0, offset-limit))
	}
	writeJSON(w, http.StatusOK, out)
}

func inWorkspaces(r *http.Request, ws string) bool {
	ids := r.URL.Query()["workspaceIds"]
	var all []string
	for _, v := range ids {
		all = append(all, strings.Split(v, ",")...)
	}
	return len(all) == 0 || slices.Contains(all, ws)
}

// listIn answers a listing of the items in the workspaces the request
// names.
func listIn[T any](s *Server, w http.ResponseWriter, r *http.Request, items func() []T, ws func(T) string, js func(T) map[string]any) {
	s.mu.Lock()
	var out []map[string]any
	for _, it := range items() {
		if inWorkspaces(r, ws(it)) {
			out = append(out, js(it))
		}
	}
	s.mu.Unlock()
	s.paged(w, r, out)
}

func (s *Server) listWorkspaces(w http.ResponseWriter, r *http.Request) {
	listIn(s, w, r, func() []*workspaceRec { return s.workspaces }, func(x *workspaceRec) string { return x.ID }, workspaceJSON)
}

func workspaceJSON(ws *workspaceRec) map[string]any {
	return map[string]any{"workspaceId": ws.ID, "name": ws.Name, "dataResidency": "auto", "notifications": map[string]any{}}
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ws := range s.workspaces {
		if ws.ID == r.PathValue("id") {
			writeJSON(w, http.StatusOK, workspaceJSON(ws))
			return
		}
	}
	writeError(w, http.StatusNotFound, "no workspace %s", r.PathValue("id"))
}

func (s *Server) listDefinitions(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var out []map[string]any
		for _, d := range s.defs {
			if d.Kind == kind {
				out = append(out, map[string]any{"id": d.ID, "name": d.Name, "dockerRepository": d.Repository, "dockerImageTag": d.Tag})
			}
		}
		s.mu.Unlock()
		s.paged(w, r, out)
	}
}

func (s *Server) actors(kind string) *[]*actor {
	if kind == "source" {
		return &s.sources
	}
	return &s.destinations
}

// actorJSON is a source or destination as the API shows it: secrets
// masked.
func actorJSON(kind string, a *actor) map[string]any {
	return map[string]any{
		kind + "Id": a.ID, "name": a.Name, typeKey(kind): typeName(kind, a.Def), "definitionId": a.Def.ID,
		"workspaceId": a.WorkspaceID, "configuration": specsecret.Masked(a.Def.Spec, a.Config), "createdAt": a.CreatedAt,
	}
}

func (s *Server) listActors(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		listIn(s, w, r, func() []*actor { return *s.actors(kind) }, func(x *actor) string { return x.WorkspaceID },
			func(a *actor) map[string]any { return actorJSON(kind, a) })
	}
}

func (s *Server) findActor(kind, id string) *actor {
	for _, a := range *s.actors(kind) {
		if a.ID == id {
			return a
		}
	}
	return nil
}

func (s *Server) getActor(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		a := s.findActor(kind, r.PathValue("id"))
		if a == nil {
			writeError(w, http.StatusNotFound, "no %s %s", kind, r.PathValue("id"))
			return
		}
		writeJSON(w, http.StatusOK, actorJSON(kind, a))
	}
}

// typeKey is the configuration field that names a source's or
// destination's type ("sourceType": "faker"). The public API's controllers
// take the definition from it when the request gives no definitionId, and
// remove it from the configuration of every create, PATCH and PUT
// (airbyte-server publicapi/controllers/SourcesController.kt and
// DestinationsController.kt, removeSourceTypeNode and
// removeDestinationType): it is never stored as a config field.
func typeKey(kind string) string { return kind + "Type" }

// typeName is a definition's type as sourceType or destinationType name
// it: its repository without "airbyte/" and the kind's prefix.
func typeName(kind string, d *definition) string {
	return strings.TrimPrefix(d.Repository[strings.LastIndex(d.Repository, "/")+1:], kind+"-")
}

// configProblems checks a configuration against its connector's spec as
// Airbyte does on create and update, and returns what Airbyte says of one
// that breaks it, "" when it holds. Airbyte validates with
// JsonSchemaValidator.ensure, whose JsonValidationException the public
// API answers 422 with the message up to "\nSchema:"
// (ConfigClientErrorHandler.handleError); a recorded answer reads
// "The provided configuration does not fulfill the specification. Errors:
// json schema validation failed when comparing the data to the json
// schema. \nErrors: $.loading_method.method: must be a constant value
// Standard ". The errors here are the project's validator's, one per
// field, never quoting a secret.
func configProblems(d *definition, cfg map[string]any) string {
	raw, err := json.Marshal(cfg)
	if err != nil {
		return err.Error()
	}
	err = kit.ValidateConfig(&protocol.ConnectorSpecification{ConnectionSpecification: d.Spec}, raw)
	var ic *kit.InvalidConfigError
	if !errors.As(err, &ic) {
		return ""
	}
	var errs []string
	for _, p := range ic.Problems {
		errs = append(errs, "$."+p.Field+": "+p.Reason)
	}
	return "The provided configuration does not fulfill the specification. Errors: json schema validation failed when comparing the data to the json schema. \nErrors: " + strings.Join(errs, ", ") + " "
}

// refuseConfig answers 422 and returns true when cfg breaks d's spec.
func refuseConfig(w http.ResponseWriter, d *definition, cfg map[string]any) bool {
	msg := configProblems(d, cfg)
	if msg == "" {
		return false
	}
	writeProblem(w, http.StatusUnprocessableEntity, "unprocessable-entity", msg)
	return true
}

func (s *Server) createActor(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name          string         `json:"name"`
			DefinitionID  string         `json:"definitionId"`
			WorkspaceID   string         `json:"workspaceId"`
			Configuration map[string]any `json:"configuration"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if req.DefinitionID == "" {
			typ, ok := req.Configuration[typeKey(kind)].(string)
			if !ok {
				writeProblem(w, http.StatusUnprocessableEntity, "unprocessable-entity", "The body of the request was not understood")
				return
			}
			for _, d := range s.defs {
				if d.Kind == kind && typeName(kind, d) == typ {
					req.DefinitionID = d.ID
				}
			}
			if req.DefinitionID == "" {
				writeProblem(w, http.StatusBadRequest, "unknown-value", fmt.Sprintf("no %s definition of type %q", kind, typ))
				return
			}
		}
		delete(req.Configuration, typeKey(kind))
		d := s.definition(req.DefinitionID)
		if d == nil || d.Kind != kind {
			writeError(w, http.StatusBadRequest, "no %s definition %q", kind, req.DefinitionID)
			return
		}
		if !slices.ContainsFunc(s.workspaces, func(ws *workspaceRec) bool { return ws.ID == req.WorkspaceID }) {
			writeError(w, http.StatusNotFound, "no workspace %s", req.WorkspaceID)
			return
		}
		if slices.ContainsFunc(specsecret.Paths(d.Spec, req.Configuration), func(p []string) bool {
			v, _ := specsecret.Get(req.Configuration, p)
			return v == specsecret.Mask
		}) {
			writeError(w, http.StatusBadRequest, "a new %s cannot keep a masked secret: there is no stored value", kind)
			return
		}
		if refuseConfig(w, d, req.Configuration) {
			return
		}
		a := &actor{ID: newUUID(), Name: req.Name, Def: d, WorkspaceID: req.WorkspaceID, Config: specsecret.Clone(req.Configuration), CreatedAt: s.Clock.Now().Unix()}
		*s.actors(kind) = append(*s.actors(kind), a)
		writeJSON(w, http.StatusOK, actorJSON(kind, a))
	}
}

// updateActor answers a PATCH (put false) or a PUT of a source or
// destination. A PATCH merges: ConfigurationUpdate.partialSource and
// partialDestination merge the configuration sent into the stored one
// (SecretsHelpers.mergeNodesExceptForSecrets), so a field the PATCH leaves
// out keeps its stored value. A PUT replaces: ConfigurationUpdate.source
// and destination keep nothing of the stored configuration. In both a
// secret sent back as the mask keeps its stored value
// (JsonSecretsProcessor.copySecrets), and the result is validated before
// it is stored.
func (s *Server) updateActor(kind string, put bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name          *string        `json:"name"`
			Configuration map[string]any `json:"configuration"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		a := s.findActor(kind, r.PathValue("id"))
		if a == nil {
			writeError(w, http.StatusNotFound, "no %s %s", kind, r.PathValue("id"))
			return
		}
		if req.Configuration != nil || put {
			delete(req.Configuration, typeKey(kind))
			cfg := req.Configuration
			if !put {
				cfg = mergeConfig(specsecret.Clone(a.Config), cfg)
			}
			cfg = specsecret.KeepMasked(a.Def.Spec, cfg, a.Config)
			if refuseConfig(w, a.Def, cfg) {
				return
			}
			a.Config = cfg
		}
		if req.Name != nil {
			a.Name = *req.Name
		}
		writeJSON(w, http.StatusOK, actorJSON(kind, a))
	}
}

// mergeConfig merges update into stored as Airbyte's
// mergeNodesExceptForSecrets does: a field that is an object in both is
// merged, any other field of update replaces stored's.
func mergeConfig(stored, update map[string]any) map[string]any {
	for k, v := range update {
		old, isObj := stored[k].(map[string]any)
		upd, updObj := v.(map[string]any)
		if isObj && updObj {
			stored[k] = mergeConfig(old, upd)
			continue
		}
		stored[k] = specsecret.Clone(map[string]any{k: v})[k]
	}
	return stored
}

func (s *Server) deleteActor(kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		id := r.PathValue("id")
		list := s.actors(kind)
		i := slices.IndexFunc(*list, func(a *actor) bool { return a.ID == id })
		if i < 0 {
			writeError(w, http.StatusNotFound, "no %s %s", kind, id)
			return
		}
		*list = slices.Delete(*list, i, i+1)
		// Airbyte deletes the connections of a deleted source or
		// destination with it.
		s.conns = slices.DeleteFunc(s.conns, func(c *connRec) bool {
			return (kind == "source" && c.SourceID == id) || (kind == "destination" && c.DestinationID == id)
		})
		w.WriteHeader(http.StatusNoContent)
	}
}

func connJSON(c *connRec) map[string]any {
	m := map[string]any{
		"connectionId": c.ID, "name": c.Name, "sourceId": c.SourceID, "destinationId": c.DestinationID,
		"workspaceId": c.WorkspaceID, "status": c.Status, "schedule": c.Schedule,
		"configurations": map[string]any{"streams": c.Streams}, "createdAt": c.CreatedAt, "tags": []any{},
		"namespaceDefinition": c.NamespaceDefinition, "nonBreakingSchemaUpdatesBehavior": "ignore", "prefix": c.Prefix,
	}
	if c.NamespaceFormat != "" {
		m["namespaceFormat"] = c.NamespaceFormat
	}
	return m
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) {
	listIn(s, w, r, func() []*connRec { return s.conns }, func(x *connRec) string { return x.WorkspaceID }, connJSON)
}

func (s *Server) findConn(id string) *connRec {
	for _, c := range s.conns {
		if c.ID == id {
			return c
		}
	}
	return nil
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findConn(r.PathValue("id"))
	if c == nil {
		writeError(w, http.StatusNotFound, "no connection %s", r.PathValue("id"))
		return
	}
	writeJSON(w, http.StatusOK, connJSON(c))
}

// connBody is the body of a connection create or patch.
type connBody struct {
	Name           *string `json:"name"`
	SourceID       string  `json:"sourceId"`
	DestinationID  string  `json:"destinationId"`
	Configurations *struct {
		Streams []map[string]any `json:"streams"`
	} `json:"configurations"`
	Schedule            map[string]any `json:"schedule"`
	NamespaceDefinition *string        `json:"namespaceDefinition"`
	NamespaceFormat     *string        `json:"namespaceFormat"`
	Prefix              *string        `json:"prefix"`
	Status              *string        `json:"status"`
}

// streams checks a connection's streams against the source's catalog and
// fills in what Airbyte fills in (sync mode, the source's cursor and
// primary key).
func streams(src *actor, in []map[string]any) ([]map[string]any, error) {
	if in == nil {
		for _, st := range src.Def.Streams {
			in = append(in, map[string]any{"name": st.Name})
		}
	}
	out := []map[string]any{} // the contract's streams are a list, even an empty one
	for _, st := range in {
		name, _ := st["name"].(string)
		i := slices.IndexFunc(src.Def.Streams, func(si streamInfo) bool { return si.Name == name })
		if i < 0 {
			return nil, fmt.Errorf("the source has no stream %q", name)
		}
		info := src.Def.Streams[i]
		c := map[string]any{}
		for k, v := range st {
			c[k] = v
		}
		mode, _ := c["syncMode"].(string)
		if mode == "" {
			mode = "full_refresh_overwrite"
			c["syncMode"] = mode
		}
		if strings.HasPrefix(mode, "incremental") && !slices.Contains(info.SyncModes, "incremental") {
			return nil, fmt.Errorf("stream %q does not support %s", name, mode)
		}
		if strings.HasPrefix(mode, "incremental") && c["cursorField"] == nil && info.DefaultCursor != nil {
			c["cursorField"] = info.DefaultCursor
		}
		if c["primaryKey"] == nil && info.PrimaryKey != nil {
			c["primaryKey"] = info.PrimaryKey
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b map[string]any) int { return strings.Compare(a["name"].(string), b["name"].(string)) })
	return out, nil
}

func scheduleOrManual(sch map[string]any) map[string]any {
	if sch == nil {
		return map[string]any{"scheduleType": "manual"}
	}
	return sch
}

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) {
	var req connBody
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	src, dst := s.findActor("source", req.SourceID), s.findActor("destination", req.DestinationID)
	if src == nil || dst == nil {
		// ConfigClientErrorHandler.handleCreateConnectionError answers
		// a missing source or destination with a 404 naming it.
		missing := req.SourceID
		if src != nil {
			missing = req.DestinationID
		}
		writeError(w, http.StatusNotFound, "resource %s not found", missing)
		return
	}
	var in []map[string]any
	if req.Configurations != nil {
		in = req.Configurations.Streams
	}
	sts, err := streams(src, in)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	c := &connRec{ID: newUUID(), SourceID: src.ID, DestinationID: dst.ID, WorkspaceID: src.WorkspaceID, Status: "active",
		Schedule: scheduleOrManual(req.Schedule), NamespaceDefinition: "destination", Streams: sts, CreatedAt: s.Clock.Now().Unix()}
	c.Name = src.Name + " → " + dst.Name
	applyConn(c, &req)
	s.conns = append(s.conns, c)
	writeJSON(w, http.StatusOK, connJSON(c))
}

func applyConn(c *connRec, req *connBody) {
	if req.Name != nil {
		c.Name = *req.Name
	}
	if req.Schedule != nil {
		c.Schedule = req.Schedule
	}
	if req.NamespaceDefinition != nil {
		c.NamespaceDefinition = *req.NamespaceDefinition
	}
	if req.NamespaceFormat != nil {
		c.NamespaceFormat = *req.NamespaceFormat
	}
	if req.Prefix != nil {
		c.Prefix = *req.Prefix
	}
	if req.Status != nil {
		c.Status = *req.Status
	}
}

func (s *Server) patchConnection(w http.ResponseWriter, r *http.Request) {
	var req connBody
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.findConn(r.PathValue("id"))
	if c == nil {
		writeError(w, http.StatusNotFound, "no connection %s", r.PathValue("id"))
		return
	}
	if req.Configurations != nil {
		sts, err := streams(s.findActor("source", c.SourceID), req.Configurations.Streams)
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		c.Streams = sts
	}
	applyConn(c, &req)
	writeJSON(w, http.StatusOK, connJSON(c))
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.conns, func(c *connRec) bool { return c.ID == r.PathValue("id") })
	if i < 0 {
		writeError(w, http.StatusNotFound, "no connection %s", r.PathValue("id"))
		return
	}
	s.conns = slices.Delete(s.conns, i, i+1)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) definitionSpec(w http.ResponseWriter, r *http.Request, kind string) {
	var req map[string]string
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	key := kind + "DefinitionId"
	s.mu.Lock()
	d := s.definition(req[key])
	s.mu.Unlock()
	if d == nil || d.Kind != kind {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "no such definition"})
		return
	}
	now := s.Clock.Now().UnixMilli()
	writeJSON(w, http.StatusOK, map[string]any{
		key: d.ID, "connectionSpecification": d.Spec,
		"jobInfo": map[string]any{"id": newUUID(), "configType": "get_spec", "createdAt": now, "endedAt": now, "succeeded": true},
	})
}

// AddSource stores a source directly, as if made in the UI: for tests of
// what the clients find.
func (s *Server) AddSource(name, definitionID string, config map[string]any) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := &actor{ID: newUUID(), Name: name, Def: s.definition(definitionID), WorkspaceID: s.WorkspaceID, Config: specsecret.Clone(config), CreatedAt: s.Clock.Now().Unix()}
	s.sources = append(s.sources, a)
	return a.ID
}

// StoredConfig returns the stored (unmasked) config of a source or
// destination, nil when there is none: what the server would run with.
func (s *Server) StoredConfig(id string) map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, kind := range []string{"source", "destination"} {
		if a := s.findActor(kind, id); a != nil {
			return specsecret.Clone(a.Config)
		}
	}
	return nil
}
