# Breaker's kill switch for tool calls (the "tools" layer of the stop switch, OPA provider).
#
# Breaker writes one data document next to this policy:
#
#   /v1/data/breaker/killswitch = {"blocked_tools": {"<agent>": ["<tool>", ...]},
#                                  "blocked_agents": ["<agent>", ...]}
#
# and this policy turns it into a decision your tool gateway asks before every tool call.
#
# Load it (OPA's Policy API; the id is only a name for management):
#
#   curl -X PUT --data-binary @breaker_killswitch.rego -H 'Content-Type: text/plain' \
#        http://127.0.0.1:8181/v1/policies/breaker-killswitch
#
# Ask it, from the gateway, for every tool call:
#
#   POST /v1/data/breaker/killswitch/allow
#   {"input": {"agent": "refund-agent", "tool": "stripe.refund"}}
#   -> {"result": true} to go on, {"result": false} to refuse the call.
#
# Breaker proves a stop by asking the same question and expecting false. A 200 without "result"
# means this policy is not loaded, and Breaker then reports the block as done but unverified.
#
# If the profile's "package" is not "breaker" (or "breaker/killswitch"), change the package line
# and the two data.breaker.killswitch references below to the same path: Rego cannot refer to
# its own package's data relatively (and data.breaker.killswitch as a whole would include this
# policy's own rules: a recursion).
#
# Notes for operators:
# - OPA does not persist data written through its REST API: after an OPA restart the document
#   is gone (every tool is allowed again) until Breaker writes it again. Keep the path outside
#   every bundle's roots, or OPA refuses the write.
# - The document's keys must not be the names of this policy's rules (allow, blocked), or OPA
#   reports a path conflict.
# - A call whose input has no string agent and tool is refused (allow defaults to false).
package breaker.killswitch

import rego.v1

default allow := false

allow if {
	is_string(input.agent)
	is_string(input.tool)
	not blocked
}

blocked if input.tool in data.breaker.killswitch.blocked_tools[input.agent]

blocked if input.agent in data.breaker.killswitch.blocked_agents
