#include "app/services/PriceTable.h"

#include "models/Logging.h"

#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>

namespace Breaker {

Result<PriceTable> PriceTable::fromJson(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &parseError);
    if (!doc.isObject())
        return makeError(Error::Kind::Invalid, parseError.errorString(), QStringLiteral("prices"));
    const QJsonObject models = doc.object().value(QLatin1String("models")).toObject();
    PriceTable table;
    for (auto it = models.begin(); it != models.end(); ++it) {
        const QJsonObject p = it.value().toObject();
        const QJsonValue in = p.value(QLatin1String("input"));
        const QJsonValue out = p.value(QLatin1String("output"));
        if (!in.isDouble() || !out.isDouble() || in.toDouble() < 0 || out.toDouble() < 0) {
            return makeError(Error::Kind::Invalid,
                             QStringLiteral("input and output must be non-negative numbers"),
                             QStringLiteral("prices.models.") + it.key());
        }
        table.set(it.key().toUtf8(), Price{in.toDouble(), out.toDouble()});
    }
    return table;
}

PriceTable PriceTable::builtin()
{
    QFile file(QStringLiteral(":/prices.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        qCWarning(lcMonitor) << "built-in price table missing; model costs will show as 0";
        return {};
    }
    auto table = fromJson(file.readAll());
    if (!table) {
        qCWarning(lcMonitor) << "built-in price table invalid:" << table.error().message;
        return {};
    }
    return *table;
}

void PriceTable::set(const QByteArray &model, Price price)
{
    m_prices.insert(model, price);
}

const PriceTable::Price *PriceTable::find(QByteArrayView model) const
{
    if (model.isEmpty())
        return nullptr;
    auto it = m_prices.constFind(model.toByteArray());
    if (it != m_prices.constEnd())
        return &it.value();
    const Price *best = nullptr;
    qsizetype bestLength = 0;
    for (auto i = m_prices.constBegin(); i != m_prices.constEnd(); ++i) {
        if (i.key().size() > bestLength && model.startsWith(i.key())) {
            best = &i.value();
            bestLength = i.key().size();
        }
    }
    return best;
}

qint64 PriceTable::costMicros(QByteArrayView model, qint64 inputTokens, qint64 outputTokens) const
{
    const Price *p = find(model);
    if (!p)
        return 0;
    // USD per million tokens == micro-dollars per token.
    return std::llround(double(std::max<qint64>(inputTokens, 0)) * p->inputPerMTok
                        + double(std::max<qint64>(outputTokens, 0)) * p->outputPerMTok);
}

} // namespace Breaker
