#include "connectors/runtime/RuntimeTypes.h"

namespace Breaker {

QByteArray toWireName(ApprovalDecision decision)
{
    switch (decision) {
    case ApprovalDecision::Approve: return "approve";
    case ApprovalDecision::Deny: return "deny";
    case ApprovalDecision::Edit: return "edit";
    }
    return "deny";
}

std::vector<QByteArray> RuntimeCapabilities::verbs() const
{
    std::vector<QByteArray> out;
    if (list)
        out.push_back("list");
    if (follow)
        out.push_back("follow");
    if (get)
        out.push_back("get");
    if (cancel)
        out.push_back("cancel");
    if (terminate)
        out.push_back("terminate");
    if (answer)
        out.push_back("answer");
    return out;
}

} // namespace Breaker
