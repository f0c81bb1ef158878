#include "models/Logging.h"

Q_LOGGING_CATEGORY(lcStore, "breaker.store", QtInfoMsg)
Q_LOGGING_CATEGORY(lcAudit, "breaker.audit", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProfile, "breaker.profile", QtInfoMsg)
Q_LOGGING_CATEGORY(lcNet, "breaker.net", QtInfoMsg)
Q_LOGGING_CATEGORY(lcOtlp, "breaker.otlp", QtInfoMsg)
Q_LOGGING_CATEGORY(lcMonitor, "breaker.monitor", QtInfoMsg)
Q_LOGGING_CATEGORY(lcSandbox, "breaker.sandbox", QtInfoMsg)
Q_LOGGING_CATEGORY(lcUi, "breaker.ui", QtInfoMsg)
Q_LOGGING_CATEGORY(lcCli, "breaker.cli", QtInfoMsg)
Q_LOGGING_CATEGORY(lcRuntime, "breaker.runtime", QtInfoMsg)
