package mockserver

import (
	"crypto/sha256"
	"crypto/subtle"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// clientRegistry holds the registered clients. Reads are lock-free (the
// token endpoint reads it on every request); the control API changes it by
// copying.
type clientRegistry struct {
	mu      sync.Mutex // serialises changes
	clients atomic.Pointer[map[string]*registeredClient]
	order   atomic.Pointer[[]string] // registration order, for listing
}

func newClientRegistry(clients []Client) *clientRegistry {
	r := &clientRegistry{}
	r.replace(clients)
	return r
}

func register(c Client) *registeredClient {
	rc := &registeredClient{Client: c, secretDigest: sha256.Sum256([]byte(c.Secret))}
	if len(c.Flows) > 0 {
		rc.flows = map[string]bool{}
		for _, f := range c.Flows {
			rc.flows[f] = true
		}
	}
	return rc
}

// get returns the client id; nil when none is registered.
func (r *clientRegistry) get(id string) *registeredClient { return (*r.clients.Load())[id] }

// list returns the clients in registration order.
func (r *clientRegistry) list() []Client {
	m := *r.clients.Load()
	out := []Client{}
	for _, id := range *r.order.Load() {
		if c := m[id]; c != nil {
			out = append(out, c.Client)
		}
	}
	return out
}

// replace registers exactly clients (already checked).
func (r *clientRegistry) replace(clients []Client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := make(map[string]*registeredClient, len(clients))
	order := make([]string, 0, len(clients))
	for _, c := range clients {
		m[c.ID] = register(c)
		order = append(order, c.ID)
	}
	r.clients.Store(&m)
	r.order.Store(&order)
}

// put registers c (already checked), replacing a client of the same id;
// it reports whether it replaced one.
func (r *clientRegistry) put(c Client) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := maps.Clone(*r.clients.Load())
	_, existed := m[c.ID]
	m[c.ID] = register(c)
	if !existed {
		order := append(slices.Clone(*r.order.Load()), c.ID)
		r.order.Store(&order)
	}
	r.clients.Store(&m)
	return existed
}

// add registers c (already checked) unless a client of its id is
// registered; it reports whether it registered c.
func (r *clientRegistry) add(c Client) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, exists := (*r.clients.Load())[c.ID]; exists {
		return false
	}
	m := maps.Clone(*r.clients.Load())
	m[c.ID] = register(c)
	order := append(slices.Clone(*r.order.Load()), c.ID)
	r.clients.Store(&m)
	r.order.Store(&order)
	return true
}

// remove unregisters id; false when it was not registered.
func (r *clientRegistry) remove(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := maps.Clone(*r.clients.Load())
	if _, ok := m[id]; !ok {
		return false
	}
	delete(m, id)
	order := slices.DeleteFunc(slices.Clone(*r.order.Load()), func(s string) bool { return s == id })
	r.clients.Store(&m)
	r.order.Store(&order)
	return true
}

// clientJSON is a Client as the control API reads and writes it: the
// config file's schema, with the lifetime as a duration string.
type clientJSON struct {
	ID            string         `json:"id"`
	Secret        string         `json:"secret"`
	Scopes        []string       `json:"scopes,omitempty"`
	TokenLifetime Duration       `json:"token_lifetime,omitempty"`
	Flows         []string       `json:"flows,omitempty"`
	Claims        map[string]any `json:"claims,omitempty"`
	Audience      []string       `json:"audience,omitempty"`
}

func toClientJSON(c Client) clientJSON {
	return clientJSON{ID: c.ID, Secret: c.Secret, Scopes: c.Scopes, TokenLifetime: Duration(c.TokenLifetime),
		Flows: c.Flows, Claims: c.Claims, Audience: c.Audience}
}

// decodeClient reads a client from a control request body.
func decodeClient(r *http.Request) (Client, error) {
	var cj clientJSON
	var scopes *[]string
	err := decodeFields(r, map[string]any{"id": &cj.ID, "secret": &cj.Secret, "scopes": &scopes,
		"token_lifetime": &cj.TokenLifetime, "flows": &cj.Flows, "claims": &cj.Claims, "audience": &cj.Audience})
	c := Client{ID: cj.ID, Secret: cj.Secret, TokenLifetime: time.Duration(cj.TokenLifetime), Flows: cj.Flows,
		Claims: cj.Claims, Audience: cj.Audience}
	if scopes != nil {
		c.Scopes = *scopes
		if c.Scopes == nil {
			c.Scopes = []string{}
		}
	}
	return c, err
}

func (s *Server) getClients(w http.ResponseWriter, _ *http.Request) {
	out := []clientJSON{}
	for _, c := range s.clients.list() {
		out = append(out, toClientJSON(c))
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"clients": out})
}

func (s *Server) getClient(w http.ResponseWriter, r *http.Request) {
	c := s.clients.get(r.PathValue("id"))
	if c == nil {
		noSuchClient(w, r.PathValue("id"))
		return
	}
	writeControlJSON(w, http.StatusOK, toClientJSON(c.Client))
}

func noSuchClient(w http.ResponseWriter, id string) {
	controlError(w, http.StatusNotFound, "not_found", "no client "+strconv.Quote(id)+" is registered (GET /_tollgate/clients lists them)")
}

// postClient registers a new client; an id already registered is a 409.
func (s *Server) postClient(w http.ResponseWriter, r *http.Request) {
	c, err := decodeClient(r)
	if err == nil {
		err = checkClient(c, s.Flows())
	}
	if err != nil {
		badControlRequest(w, err)
		return
	}
	if !s.clients.add(c) {
		controlError(w, http.StatusConflict, oautherr409, "client "+strconv.Quote(c.ID)+" is already registered: PUT /_tollgate/clients/"+c.ID+" replaces it")
		return
	}
	writeControlJSON(w, http.StatusCreated, toClientJSON(c))
}

// oautherr409 is the error code of a conflicting control request.
const oautherr409 = "conflict"

// putClient registers or replaces the client of the path's id.
func (s *Server) putClient(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	c, err := decodeClient(r)
	if err == nil && c.ID == "" {
		c.ID = id
	}
	if err == nil && c.ID != id {
		err = fieldError("id", "%q differs from the path's %q", c.ID, id)
	}
	if err == nil {
		err = checkClient(c, s.Flows())
	}
	if err != nil {
		badControlRequest(w, err)
		return
	}
	status := http.StatusCreated
	if s.clients.put(c) {
		status = http.StatusOK
	}
	writeControlJSON(w, status, toClientJSON(c))
}

func (s *Server) deleteClient(w http.ResponseWriter, r *http.Request) {
	if !s.clients.remove(r.PathValue("id")) {
		noSuchClient(w, r.PathValue("id"))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// constantTimeEqual compares a presented secret with the expected one in
// time that does not depend on where they differ.
func constantTimeEqual(got, want string) bool {
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}
