#pragma once

#include <QByteArray>
#include <QJsonObject>

namespace Breaker {

// audit.csv: one flat row per audit record, for spreadsheets. A derived convenience file; the
// chain file audit.jsonl stays the authoritative copy (DESIGN.md section 7).
//
// RFC 4180: UTF-8, CRLF after every row (the header too), a field is quoted when it holds a
// comma, a double quote, CR or LF, and a double quote inside a quoted field is doubled.
// Columns: seq, ts, actor_kind, actor_id, actor_host, action, agent, run, principal, layer,
// provider, object, reason, outcome, detail (compact JSON, keys sorted), prev. A null field is
// an empty cell.
//
// Formula injection (OWASP "CSV Injection"): a spreadsheet runs a cell that begins with
// = + - @ tab or CR as a formula, and every text field here (reason, provider's words, agent
// names) can come from outside. Such a cell gets a leading apostrophe, which spreadsheets show
// as text; the value in audit.jsonl is unchanged.
QByteArray auditCsvHeader();
QByteArray auditCsvRow(const QJsonObject &record);

} // namespace Breaker
