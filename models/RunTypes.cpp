#include "models/RunTypes.h"

#include <array>
#include <utility>

namespace Breaker {

namespace {

constexpr std::array<std::pair<RunStatus, const char *>, 9> kStatusNames{{
    {RunStatus::Submitted, "submitted"},
    {RunStatus::Working, "working"},
    {RunStatus::WaitingApproval, "waiting_approval"},
    {RunStatus::Stopping, "stopping"},
    {RunStatus::Stopped, "stopped"},
    {RunStatus::Completed, "completed"},
    {RunStatus::Failed, "failed"},
    {RunStatus::Rejected, "rejected"},
    {RunStatus::Unknown, "unknown"},
}};

constexpr std::array<std::pair<EventKind, const char *>, 12> kKindNames{{
    {EventKind::ModelCall, "model_call"},
    {EventKind::ToolCall, "tool_call"},
    {EventKind::DataAccess, "data_access"},
    {EventKind::PolicyBlock, "policy_block"},
    {EventKind::ApprovalRequested, "approval_requested"},
    {EventKind::ApprovalDecided, "approval_decided"},
    {EventKind::Spend, "spend"},
    {EventKind::StatusChange, "status_change"},
    {EventKind::Error, "error"},
    {EventKind::OperatorAction, "operator_action"},
    {EventKind::AgentInvocation, "agent_invocation"},
    {EventKind::Span, "span"},
}};

} // namespace

QByteArray toWireName(RunStatus status)
{
    for (const auto &[s, name] : kStatusNames) {
        if (s == status)
            return QByteArray(name);
    }
    return QByteArrayLiteral("unknown");
}

std::optional<RunStatus> runStatusFromWireName(QByteArrayView name)
{
    for (const auto &[s, n] : kStatusNames) {
        if (name == QByteArrayView(n))
            return s;
    }
    return std::nullopt;
}

bool isTerminal(RunStatus status)
{
    switch (status) {
    case RunStatus::Stopped:
    case RunStatus::Completed:
    case RunStatus::Failed:
    case RunStatus::Rejected:
        return true;
    default:
        return false;
    }
}

QByteArray toWireName(EventKind kind)
{
    for (const auto &[k, name] : kKindNames) {
        if (k == kind)
            return QByteArray(name);
    }
    return QByteArrayLiteral("span");
}

std::optional<EventKind> eventKindFromWireName(QByteArrayView name)
{
    for (const auto &[k, n] : kKindNames) {
        if (name == QByteArrayView(n))
            return k;
    }
    return std::nullopt;
}

} // namespace Breaker
