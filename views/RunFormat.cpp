#include "views/RunFormat.h"

#include <QDateTime>
#include <QLocale>

namespace Breaker::RunFormat {

namespace {

// Digits with a comma every three places, independent of the user's locale.
QString grouped(quint64 n)
{
    QString digits = QString::number(n);
    for (qsizetype i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return digits;
}

QString padded(quint64 n, int width)
{
    return QStringLiteral("%1").arg(n, width, 10, QLatin1Char('0'));
}

struct CurrencyStyle
{
    QString prefix;
    QString suffix;
};

CurrencyStyle currencyStyle(QByteArrayView currency)
{
    const QByteArray lower = currency.toByteArray().toLower();
    if (lower == "usd" || lower.isEmpty())
        return {QStringLiteral("$"), {}};
    if (lower == "eur")
        return {QStringLiteral("€"), {}};
    if (lower == "gbp")
        return {QStringLiteral("£"), {}};
    return {{}, QLatin1Char(' ') + QString::fromLatin1(lower.toUpper())};
}

QDateTime toDateTime(qint64 ms, bool utc)
{
    return QDateTime::fromMSecsSinceEpoch(ms, utc ? Qt::UTC : Qt::LocalTime);
}

QString zoneSuffix(const QDateTime &dt, bool utc)
{
    if (utc)
        return QStringLiteral(" UTC");
    const int offset = dt.offsetFromUtc();
    const int abs = offset < 0 ? -offset : offset;
    return QStringLiteral(" %1%2:%3")
        .arg(offset < 0 ? QLatin1Char('-') : QLatin1Char('+'))
        .arg(abs / 3600, 2, 10, QLatin1Char('0'))
        .arg((abs % 3600) / 60, 2, 10, QLatin1Char('0'));
}

} // namespace

QString money(qint64 micros, QByteArrayView currency)
{
    const CurrencyStyle style = currencyStyle(currency);
    const bool negative = micros < 0;
    const quint64 abs = negative ? quint64(0) - quint64(micros) : quint64(micros);

    QString number;
    if (abs == 0) {
        number = QStringLiteral("0.00");
    } else if (abs < 100) {
        // Below a hundredth of a cent: show every digit we have (micro-units).
        number = QStringLiteral("0.") + padded(abs, 6);
    } else if (const quint64 tenThousandths = (abs + 50) / 100; tenThousandths < 10'000) {
        // Below a unit: four decimals, so model-call prices stay readable ("$0.0123").
        number = QStringLiteral("0.") + padded(tenThousandths, 4);
    } else {
        const quint64 cents = (abs + 5'000) / 10'000;
        number = grouped(cents / 100) + QLatin1Char('.') + padded(cents % 100, 2);
    }
    return (negative ? QStringLiteral("-") : QString()) + style.prefix + number + style.suffix;
}

QString duration(qint64 ms)
{
    if (ms < 0)
        return QStringLiteral("—");
    if (ms < 1'000)
        return QStringLiteral("%1 ms").arg(ms);
    if (ms < 10'000)
        return QStringLiteral("%1.%2 s").arg(ms / 1'000).arg((ms % 1'000) / 100);
    const qint64 s = ms / 1'000;
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3'600)
        return QStringLiteral("%1m %2s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    if (s < 86'400)
        return QStringLiteral("%1h %2m").arg(s / 3'600).arg(
            (s % 3'600) / 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1d %2h")
        .arg(s / 86'400)
        .arg((s % 86'400) / 3'600, 2, 10, QLatin1Char('0'));
}

QString durationNs(qint64 ns)
{
    if (ns < 0)
        return QStringLiteral("—");
    if (ns < 1'000)
        return QStringLiteral("%1 ns").arg(ns);
    if (ns < 1'000'000)
        return QStringLiteral("%1 µs").arg(ns / 1'000);
    if (ns < 10'000'000)
        return QStringLiteral("%1.%2 ms").arg(ns / 1'000'000).arg((ns % 1'000'000) / 100'000);
    if (ns < 1'000'000'000)
        return QStringLiteral("%1 ms").arg(ns / 1'000'000);
    return duration(ns / 1'000'000);
}

QString count(qint64 n)
{
    if (n < 0)
        return QLatin1Char('-') + grouped(quint64(0) - quint64(n));
    return grouped(quint64(n));
}

QString compactCount(qint64 n)
{
    if (n < 0)
        return QLatin1Char('-') + compactCount(-n);
    if (n < 10'000)
        return count(n);
    if (n < 1'000'000)
        return QStringLiteral("%1.%2k").arg(n / 1'000).arg((n % 1'000) / 100);
    if (n < 1'000'000'000)
        return QStringLiteral("%1.%2M").arg(n / 1'000'000).arg((n % 1'000'000) / 100'000);
    return QStringLiteral("%1.%2G").arg(n / 1'000'000'000).arg((n % 1'000'000'000) / 100'000'000);
}

QString tokens(qint64 input, qint64 output)
{
    return compactCount(input) + QStringLiteral(" / ") + compactCount(output);
}

QString shortTime(qint64 ms, bool utc, qint64 nowMs)
{
    if (ms <= 0)
        return QStringLiteral("—");
    const QDateTime dt = toDateTime(ms, utc);
    const QDateTime now = toDateTime(nowMs, utc);
    const QLocale c = QLocale::c();
    if (dt.date() == now.date())
        return c.toString(dt, QStringLiteral("HH:mm:ss"));
    if (dt.date().year() == now.date().year())
        return c.toString(dt, QStringLiteral("MMM d, HH:mm"));
    return c.toString(dt, QStringLiteral("yyyy-MM-dd HH:mm"));
}

QString fullTime(qint64 ms, bool utc)
{
    if (ms <= 0)
        return QStringLiteral("—");
    const QDateTime dt = toDateTime(ms, utc);
    return QLocale::c().toString(dt, QStringLiteral("yyyy-MM-dd HH:mm:ss.zzz"))
           + zoneSuffix(dt, utc);
}

QString fullTimeNs(qint64 ns, bool utc)
{
    if (ns <= 0)
        return QStringLiteral("—");
    const qint64 ms = ns / 1'000'000;
    const QDateTime dt = toDateTime(ms, utc);
    const qint64 micros = (ns / 1'000) % 1'000'000;
    return QLocale::c().toString(dt, QStringLiteral("yyyy-MM-dd HH:mm:ss")) + QLatin1Char('.')
           + padded(quint64(micros), 6) + zoneSuffix(dt, utc);
}

QString plural(qint64 n, const QString &one, const QString &many)
{
    return (n == 1 ? one : many).arg(count(n));
}

QString statusLabel(RunStatus status)
{
    QString label = QString::fromLatin1(toWireName(status));
    label.replace(QLatin1Char('_'), QLatin1Char(' '));
    return label;
}

QColor statusColor(RunStatus status)
{
    // Mid-tone colours: readable as text on a light and on a dark background.
    switch (status) {
    case RunStatus::WaitingApproval:
        return QColor(0xc7, 0x7c, 0x00); // amber
    case RunStatus::Failed:
    case RunStatus::Rejected:
        return QColor(0xd3, 0x2f, 0x2f); // red
    case RunStatus::Stopped:
    case RunStatus::Stopping:
        return QColor(0x80, 0x80, 0x80); // grey
    case RunStatus::Working:
    case RunStatus::Submitted:
        return QColor(0x1e, 0x7b, 0xd8); // blue
    case RunStatus::Completed:
        return QColor(0x2e, 0x8b, 0x3e); // green
    case RunStatus::Unknown:
        break;
    }
    return {};
}

} // namespace Breaker::RunFormat
