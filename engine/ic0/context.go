package ic0

import "strings"

// Context is the kind of execution a System API call happens in. The replica
// calls it the ApiType; it decides which ic0 functions a canister may call.
type Context uint8

// The execution contexts. PostUpgrade behaves as Init: the replica runs
// canister_post_upgrade with ApiType::Init and names it "init" in errors.
const (
	Start Context = iota // the wasm (start) function
	Init
	PreUpgrade
	PostUpgrade
	Update
	ReplicatedQuery
	NonReplicatedQuery
	CompositeQuery
	InspectMessage
	Heartbeat
	GlobalTimer
	OnLowWasmMemory
	ReplyCallback
	RejectCallback
	Cleanup
	CompositeReplyCallback
	CompositeRejectCallback
	CompositeCleanup
	numContexts
)

// contextInfo describes each context: the replica's name for it (used in
// `"<fn>" cannot be executed in <name> mode`) and its letter in the
// interface specification's System API table.
var contextInfo = [numContexts]struct {
	name, spec string
}{
	Start:                   {"start", "s"},
	Init:                    {"init", "I"},
	PreUpgrade:              {"pre upgrade", "G"},
	PostUpgrade:             {"init", "I"},
	Update:                  {"update", "U"},
	ReplicatedQuery:         {"replicated query", "RQ"},
	NonReplicatedQuery:      {"non replicated query", "NRQ"},
	CompositeQuery:          {"composite query", "CQ"},
	InspectMessage:          {"inspect message", "F"},
	Heartbeat:               {"heartbeat", "T"},
	GlobalTimer:             {"global timer", "T"},
	OnLowWasmMemory:         {"on low Wasm memory", "T"},
	ReplyCallback:           {"reply callback", "Ry"},
	RejectCallback:          {"reject callback", "Rt"},
	Cleanup:                 {"cleanup", "C"},
	CompositeReplyCallback:  {"composite reply callback", "CRy"},
	CompositeRejectCallback: {"composite reject callback", "CRt"},
	CompositeCleanup:        {"composite cleanup", "CC"},
}

// String returns the replica's name of the context, e.g. "pre upgrade".
func (c Context) String() string {
	if c >= numContexts {
		return "unknown"
	}
	return contextInfo[c].name
}

// Replicated reports whether the context runs in replicated mode (goes
// through consensus); ic0.in_replicated_execution returns it.
func (c Context) Replicated() bool {
	switch c {
	case NonReplicatedQuery, CompositeQuery, InspectMessage,
		CompositeReplyCallback, CompositeRejectCallback, CompositeCleanup:
		return false
	}
	return true
}

// CanReply reports whether the context has a caller waiting for a reply
// (msg_reply and msg_reject are allowed).
func (c Context) CanReply() bool {
	return Allowed("msg_reply", c)
}

// ContextSet is a set of contexts.
type ContextSet uint32

// Has reports whether c is in the set.
func (s ContextSet) Has(c Context) bool { return s&(1<<c) != 0 }

// contextsOf parses the interface specification's notation for where a
// function may be called (e.g. "I G U RQ Ry Rt C T", "* s"), so the table
// in functions.go reads like the specification it was copied from.
func contextsOf(spec string) ContextSet {
	var s ContextSet
	for _, tok := range strings.Fields(spec) {
		switch tok {
		case "*":
			for c := range numContexts {
				if c != Start {
					s |= 1 << c
				}
			}
		case "Q":
			s |= contextsOf("RQ NRQ")
		default:
			for c := range numContexts {
				if contextInfo[c].spec == tok {
					s |= 1 << c
				}
			}
		}
	}
	return s
}
