#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QHash>
#include <QString>

#include "models/Result.h"

namespace Breaker {

// Model prices, USD per million tokens. The built-in table ships as a resource
// (resources/prices.json); the profile's "prices" key overrides entries.
class PriceTable
{
public:
    struct Price
    {
        double inputPerMTok = 0;
        double outputPerMTok = 0;
    };

    static Result<PriceTable> fromJson(const QByteArray &json);
    // The table shipped in resources/prices.json (empty, with a warning, if it is missing).
    static PriceTable builtin();

    void set(const QByteArray &model, Price price);
    // Exact model name, else the longest known prefix ("gpt-4o-2024-08-06" → "gpt-4o").
    const Price *find(QByteArrayView model) const;
    // Cost in millionths of a dollar; 0 when the model is unknown.
    qint64 costMicros(QByteArrayView model, qint64 inputTokens, qint64 outputTokens) const;
    int size() const { return int(m_prices.size()); }

private:
    QHash<QByteArray, Price> m_prices;
};

} // namespace Breaker
