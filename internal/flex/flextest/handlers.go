package flextest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"sort"
	"time"
	"unicode/utf8"
)

// The endpoint handlers, each following its documented request and answer.

// instance is the documented Flex instance read.
func (s *Server) instance(w http.ResponseWriter, r *http.Request, sid string, hide bool) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		return
	}
	if got := r.Header.Get("I-Twilio-Auth-Account"); got != s.opts.AccountSID {
		writeError(w, http.StatusBadRequest, 0, "Missing or wrong I-Twilio-Auth-Account header")
		return
	}
	if sid != InstanceSID || hide {
		notFound(w, r.URL.Path)
		return
	}
	now := s.opts.Now().UTC().Format(time.RFC3339)
	writeJSON(w, http.StatusOK, map[string]any{
		"flex_instance_sid": InstanceSID, "account_sid": s.opts.AccountSID, "status": s.opts.InstanceStatus,
		"date_created": now, "date_updated": now,
	})
}

// deprovision deactivates a user. ASSUMED path and answer (the user, 200);
// the deactivation itself (worker removed, user kept as deactivated) is
// DOCUMENTED.
func (s *Server) deprovision(w http.ResponseWriter, sid string) {
	s.mu.Lock()
	var shape map[string]any
	if u, ok := s.bySID[sid]; ok {
		if !u.Deactivated {
			u.Deactivated, u.Updated = true, s.opts.Now().UTC()
			u.Version++
		}
		shape = s.getShape(u)
	}
	s.mu.Unlock()
	writeUser(w, sid, shape)
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	name, filtered := r.URL.Query()["Username"]
	s.mu.Lock()
	users := []map[string]any{}
	for _, u := range s.users {
		if u.Deactivated && s.opts.HideDeactivated {
			continue
		}
		if !filtered || u.Username == name[0] {
			users = append(users, s.getShape(u))
		}
	}
	s.mu.Unlock()
	if filtered && len(users) == 0 && s.opts.UnknownUser404 {
		notFound(w, r.URL.Path)
		return
	}
	sort.Slice(users, func(i, j int) bool { return users[i]["username"].(string) < users[j]["username"].(string) })
	writeJSON(w, http.StatusOK, map[string]any{
		"account_sid": s.opts.AccountSID, "instance_sid": InstanceSID, "users": users,
		"meta": map[string]any{"direct_token": true, "list_key": "users", "next_token": nil,
			"page_size": 50, "previous_token": nil},
	})
}

func (s *Server) fetch(w http.ResponseWriter, sid string) {
	s.mu.Lock()
	var shape map[string]any
	if u, ok := s.bySID[sid]; ok && !(u.Deactivated && s.opts.HideDeactivated) {
		shape = s.getShape(u)
	}
	s.mu.Unlock()
	writeUser(w, sid, shape)
}

// writeUser answers with the shape of user sid, or with Twilio's 404 for
// its path if shape is nil (no such user, or one the options hide).
func writeUser(w http.ResponseWriter, sid string, shape map[string]any) {
	if shape == nil {
		notFound(w, "/v4/Instances/"+InstanceSID+"/Users/"+sid)
		return
	}
	writeJSON(w, http.StatusOK, shape)
}

// provisionIn is the documented Provision request; pointers tell a missing
// field from an empty one.
type provisionIn struct {
	Username *string         `json:"username"`
	Email    *string         `json:"email"`
	FullName *string         `json:"full_name"`
	Roles    *[]string       `json:"roles"`
	Worker   json.RawMessage `json:"worker"`
}

func (s *Server) provision(w http.ResponseWriter, rec Request) {
	var in provisionIn
	if msg := decodeJSON(rec, &in); msg != "" {
		writeError(w, http.StatusBadRequest, 0, msg)
		return
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"username", in.Username}, {"email", in.Email}, {"full_name", in.FullName}} {
		if f.v == nil {
			writeError(w, http.StatusBadRequest, 0, "Missing required parameter "+f.name)
			return
		}
		if n := utf8.RuneCountInString(*f.v); n < 1 || n > 256 {
			writeError(w, http.StatusBadRequest, 0, "Invalid parameter "+f.name+": must be 1..256 characters")
			return
		}
	}
	if in.Roles == nil || len(*in.Roles) == 0 || slices.Contains(*in.Roles, "") {
		writeError(w, http.StatusBadRequest, 0, "Invalid parameter roles: a non-empty list of roles is required")
		return
	}
	for _, r := range *in.Roles {
		if !IsProvisionRole(r) {
			writeError(w, http.StatusBadRequest, 0, "Invalid parameter roles: unknown role")
			return
		}
	}
	var worker map[string]any
	if len(in.Worker) == 0 || json.Unmarshal(in.Worker, &worker) != nil || worker == nil {
		writeError(w, http.StatusBadRequest, 0, "Invalid parameter worker: a JSON object is required")
		return
	}
	name := *in.Username

	s.mu.Lock()
	for s.creating[name] && s.users[name] == nil {
		if s.opts.ConflictOnRace {
			s.mu.Unlock()
			writeError(w, http.StatusConflict, 20409, "Conflict: user "+name+" is being created")
			return
		}
		s.cond.Wait()
	}
	if u := s.users[name]; u != nil {
		// Create-or-update: the request is the whole new state. ASSUMED:
		// Provision of a deactivated user updates it and leaves it
		// deactivated (package flex then refuses the login).
		u.Email, u.FullName, u.Roles = *in.Email, *in.FullName, slices.Clone(*in.Roles)
		u.Worker = slices.Clone(in.Worker)
		u.Version++
		u.Updated = s.opts.Now().UTC()
		shape := s.provisionShape(u)
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, shape)
		return
	}
	if s.userLimit > 0 && s.activeUsers() >= s.userLimit {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, UserLimitCode, "Max concurrent Workers exceeded")
		return
	}
	s.creating[name] = true
	s.mu.Unlock()

	if s.opts.CreateDelay > 0 {
		time.Sleep(s.opts.CreateDelay)
	}
	if s.opts.HoldCreate != nil {
		s.opts.HoldCreate(name)
	}

	s.mu.Lock()
	s.seq++
	now := s.opts.Now().UTC()
	u := &User{
		FlexUserSID: fmt.Sprintf("FU%032x", s.seq), WorkerSID: fmt.Sprintf("WK%032x", s.seq),
		Username: name, FullName: *in.FullName, Email: *in.Email, Roles: slices.Clone(*in.Roles),
		Worker: slices.Clone(in.Worker), Version: 1, Created: now, Updated: now,
	}
	s.users[name], s.bySID[u.FlexUserSID] = u, u
	delete(s.creating, name)
	s.cond.Broadcast()
	shape := s.provisionShape(u)
	s.mu.Unlock()
	writeJSON(w, s.opts.CreateStatus, shape)
}

func (s *Server) activeUsers() int {
	n := 0
	for _, u := range s.users {
		if !u.Deactivated {
			n++
		}
	}
	return n
}

func (s *Server) mint(w http.ResponseWriter, rec Request, sid string) {
	var in struct {
		TTL *json.Number `json:"ttl"`
	}
	if len(bytes.TrimSpace(rec.Body)) > 0 {
		if msg := decodeJSON(rec, &in); msg != "" {
			writeError(w, http.StatusBadRequest, 0, msg)
			return
		}
	}
	ttl := int64(3600) // documented default
	if in.TTL != nil {
		v, err := in.TTL.Int64()
		if err != nil || v <= 0 {
			writeError(w, http.StatusBadRequest, 0, "Invalid parameter ttl: a positive integer is required")
			return
		}
		ttl = v
	}
	if s.opts.MaxTTL > 0 && ttl > s.opts.MaxTTL {
		writeError(w, http.StatusBadRequest, 0, "Invalid parameter ttl")
		return
	}
	s.mu.Lock()
	u, ok := s.bySID[sid]
	if !ok || u.Deactivated {
		// ASSUMED: 404 for a token of a deactivated user.
		s.mu.Unlock()
		notFound(w, rec.Path)
		return
	}
	tok := MintedToken{
		AccessToken: "flextest-jwe." + randomHex(24), FlexUserSID: u.FlexUserSID, Username: u.Username,
		TTL: ttl, Expiration: s.opts.Now().UTC().Add(time.Duration(ttl) * time.Second).Truncate(time.Second),
	}
	s.tokens = append(s.tokens, tok)
	roles := slices.Clone(u.Roles)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok.AccessToken,
		"token_info": map[string]any{
			"account_sid": s.opts.AccountSID, "expiration": tok.Expiration.Format(time.RFC3339),
			"flex_instance_sid": InstanceSID, "flex_user_sid": tok.FlexUserSID, "identity": tok.Username,
			"permissions": []string{}, "roles": roles, "username": tok.Username,
		},
	})
}

// getShape is the user as the GET endpoints document it (worker SIDs at the
// top level). Callers hold s.mu.
func (s *Server) getShape(u *User) map[string]any {
	m := s.common(u)
	if s.opts.NoWorkerSIDInLookup {
		return m
	}
	var worker any = u.WorkerSID
	if u.Deactivated {
		worker = nil // DOCUMENTED: the worker is removed with the user
	}
	m["worker_sid"], m["workspace_sid"] = worker, WorkspaceSID
	return m
}

// provisionShape is the user as Provision documents it (nested worker).
func (s *Server) provisionShape(u *User) map[string]any {
	m := s.common(u)
	m["worker"] = map[string]any{"worker_sid": u.WorkerSID, "workspace_sid": WorkspaceSID}
	return m
}

func (s *Server) common(u *User) map[string]any {
	var deactivated any
	if u.Deactivated {
		deactivated = u.Updated.Format(time.RFC3339)
	}
	m := map[string]any{
		"account_sid": s.opts.AccountSID, "instance_sid": InstanceSID, "flex_user_sid": u.FlexUserSID,
		"flex_team_sid": TeamSID, "username": u.Username, "email": u.Email, "full_name": u.FullName,
		"roles": slices.Clone(u.Roles), "locale": nil, "deactivated": u.Deactivated,
		"deactivated_date": deactivated, "created_date": u.Created.Format(time.RFC3339),
		"updated_date": u.Updated.Format(time.RFC3339), "version": u.Version,
	}
	if s.opts.NoDeactivatedField {
		delete(m, "deactivated")
		delete(m, "deactivated_date")
	}
	return m
}

// decodeJSON enforces the documented encoding (application/json) and field
// names; it returns a message for a 400, or "".
func decodeJSON(rec Request, v any) string {
	mt, _, err := mime.ParseMediaType(rec.ContentType)
	if err != nil || mt != "application/json" {
		return "Content-Type must be application/json"
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return "Invalid JSON body: " + err.Error()
	}
	return ""
}

func notFound(w http.ResponseWriter, path string) {
	writeError(w, http.StatusNotFound, 20404, "The requested resource "+path+" was not found")
}

// writeError writes Twilio's documented exception body. code 0 is left
// out ("code: (If present)").
func writeError(w http.ResponseWriter, status, code int, msg string) {
	body := map[string]any{"status": status, "message": msg}
	if code != 0 {
		body["code"] = code
		body["more_info"] = fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

type statusWriter struct {
	http.ResponseWriter
	onStatus func(int)
}

func (w *statusWriter) WriteHeader(code int) {
	w.onStatus(code)
	w.ResponseWriter.WriteHeader(code)
}
