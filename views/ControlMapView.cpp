#include "views/ControlMapView.h"

#include <QBrush>
#include <QColor>
#include <QHeaderView>

namespace Breaker {

namespace {

enum Column { LayerColumn, ProviderColumn, StateColumn, ProofColumn, ColumnCount };

const QColor kGreen(0x1b, 0x7f, 0x3b);
const QColor kRed(0xc6, 0x28, 0x28);
const QColor kAmber(0x9a, 0x6a, 0x00);

} // namespace

ControlMapView::ControlMapView(QWidget *parent)
    : QTableWidget(0, ColumnCount, parent)
{
    setObjectName(QStringLiteral("controlMap"));
    setAccessibleName(tr("Control map"));
    setToolTip(tr("The agent's seven layers: who provides each, and when a stop or drill last proved it"));
    setHorizontalHeaderLabels({tr("Layer"), tr("Provider"), tr("State"), tr("Last proven stop")});
    verticalHeader()->hide();
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setWordWrap(false);
    horizontalHeader()->setStretchLastSection(true);
}

QString ControlMapView::layerLabel(const QString &layer)
{
    if (layer == u"runtime")
        return tr("Runtime");
    if (layer == u"identity")
        return tr("Identity");
    if (layer == u"data")
        return tr("Data");
    if (layer == u"tools")
        return tr("Tools");
    if (layer == u"payment")
        return tr("Spending");
    if (layer == u"observability")
        return tr("Observability");
    if (layer == u"kill_switch")
        return tr("Kill switch");
    return layer;
}

void ControlMapView::showMap(const QByteArray &agent, const std::vector<ControlMapRow> &rows)
{
    m_agent = agent;
    setRowCount(int(rows.size()));
    for (int i = 0; i < int(rows.size()); ++i) {
        const ControlMapRow &r = rows[size_t(i)];
        auto *layer = new QTableWidgetItem(layerLabel(r.layer));
        layer->setData(Qt::UserRole, r.layer);
        auto *provider = new QTableWidgetItem(r.provider.isEmpty() ? QStringLiteral("—") : r.provider);
        auto *state = new QTableWidgetItem(r.configured ? tr("bound") : tr("TBD"));
        auto *proof = new QTableWidgetItem(r.detail);
        proof->setToolTip(r.detail);
        if (!r.configured) {
            state->setForeground(QBrush(kAmber));
            state->setToolTip(tr("A gap: no provider is bound to this layer, so an agent with it is not ready for "
                                 "production"));
        }
        if (r.stoppable && r.configured) {
            if (r.proof && r.proof->outcome != LayerOutcome::Verified)
                proof->setForeground(QBrush(kRed));
            else if (r.proven())
                proof->setForeground(QBrush(kGreen));
            else
                proof->setForeground(QBrush(kAmber));
        }
        setItem(i, LayerColumn, layer);
        setItem(i, ProviderColumn, provider);
        setItem(i, StateColumn, state);
        setItem(i, ProofColumn, proof);
    }
    resizeColumnsToContents();
}

} // namespace Breaker
