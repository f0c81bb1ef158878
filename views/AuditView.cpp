#include "views/AuditView.h"

#include "views/AuditTableModel.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

namespace Breaker {

AuditView::AuditView(AuditActions *actions, QWidget *parent)
    : QWidget(parent)
    , m_actions(actions)
{
    setObjectName(QStringLiteral("auditView"));
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);

    m_chain = new QLabel(tr("Chain: not checked yet"), this);
    m_chain->setObjectName(QStringLiteral("auditChainState"));
    m_chain->setTextFormat(Qt::RichText);
    // Two short lines (the state, then the key): no word wrap, so the label asks for both.
    m_chain->setWordWrap(false);
    m_chain->setTextInteractionFlags(Qt::TextSelectableByMouse); // the fingerprint, for recording out of band
    m_chain->setAccessibleName(tr("Audit chain state"));
    layout->addWidget(m_chain);

    auto *bar = new QHBoxLayout;
    m_filter = new QLineEdit(this);
    m_filter->setObjectName(QStringLiteral("auditFilter"));
    m_filter->setPlaceholderText(tr("Filter by actor, action, agent, run, principal, outcome"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setAccessibleName(tr("Filter audit records"));
    bar->addWidget(m_filter, 1);
    m_count = new QLabel(this);
    bar->addWidget(m_count);
    m_refresh = new QPushButton(tr("&Refresh and check chain"), this);
    m_refresh->setToolTip(tr("Reload the newest %1 records and re-walk the chain against its signed checkpoints")
                              .arg(kRecentRecords));
    bar->addWidget(m_refresh);
    auto *exportButton = new QPushButton(tr("E&xport…"), this);
    exportButton->setToolTip(tr("A signed export anyone can verify with sha256sum and openssl"));
    bar->addWidget(exportButton);
    layout->addLayout(bar);

    m_model = new AuditTableModel(this);
    m_proxy = new QSortFilterProxyModel(this);
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("auditTable"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setStretchLastSection(false);
    m_table->horizontalHeader()->setSectionResizeMode(AuditTableModel::TargetColumn, QHeaderView::Stretch);
    m_table->setAccessibleName(tr("Audit records"));

    auto *detailBox = new QWidget(this);
    auto *detailLayout = new QVBoxLayout(detailBox);
    detailLayout->setContentsMargins(0, 0, 0, 0);
    m_detail = new QPlainTextEdit(detailBox);
    m_detail->setObjectName(QStringLiteral("auditDetail"));
    m_detail->setReadOnly(true);
    m_detail->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_detail->setAccessibleName(tr("Audit record detail"));
    QFont mono = m_detail->font();
    mono.setStyleHint(QFont::Monospace);
    mono.setFamily(QStringLiteral("monospace"));
    m_detail->setFont(mono);
    detailLayout->addWidget(m_detail, 1);
    m_showInRun = new QPushButton(tr("Show in &run"), detailBox);
    m_showInRun->setEnabled(false);
    detailLayout->addWidget(m_showInRun, 0, Qt::AlignRight);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_table);
    splitter->addWidget(detailBox);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    layout->addWidget(splitter, 1);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_filter, &QLineEdit::textChanged, this, [this] {
        m_count->setText(tr("%1 of %2").arg(m_proxy->rowCount()).arg(m_model->rowCount()));
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &AuditView::showSelected);
    connect(m_refresh, &QPushButton::clicked, this, &AuditView::refresh);
    connect(exportButton, &QPushButton::clicked, this, &AuditView::exportRequested);
    connect(m_showInRun, &QPushButton::clicked, this, [this] {
        const QModelIndex current = m_table->currentIndex();
        const QString run = current.data(AuditTableModel::RunRole).toString();
        if (!run.isEmpty())
            emit showRunRequested(run.toUtf8());
    });
    connect(m_actions, &AuditActions::recordsLoaded, this, &AuditView::onRecords);
    connect(m_actions, &AuditActions::chainChecked, this, &AuditView::onChain);
}

void AuditView::refresh()
{
    m_refresh->setEnabled(false);
    m_chain->setText(tr("Chain: checking…"));
    m_actions->loadRecent(kRecentRecords);
    m_actions->checkChain();
}

void AuditView::setUtc(bool utc)
{
    m_model->setUtc(utc);
}

void AuditView::onRecords(const std::vector<AuditRecord> &records, const QString &error)
{
    const qint64 selected = m_table->currentIndex().data(AuditTableModel::SeqRole).toLongLong();
    m_model->setRecords(records);
    m_table->resizeColumnsToContents();
    m_count->setText(error.isEmpty() ? tr("%1 of %2").arg(m_proxy->rowCount()).arg(m_model->rowCount())
                                     : tr("cannot read the trail: %1").arg(error));
    // Keep the operator's place.
    for (int row = 0; row < m_proxy->rowCount() && selected > 0; ++row) {
        const QModelIndex i = m_proxy->index(row, 0);
        if (i.data(AuditTableModel::SeqRole).toLongLong() == selected) {
            m_table->setCurrentIndex(i);
            break;
        }
    }
}

void AuditView::onChain(const AuditChainState &state)
{
    m_refresh->setEnabled(true);
    if (!state.error.isEmpty()) {
        m_chain->setText(tr("<b style='color:#c62828'>Chain not checked:</b> %1").arg(state.error.toHtmlEscaped()));
        return;
    }
    const QString key = tr("signing key %1 (%2)").arg(state.keyFingerprint, state.keyLocation.toHtmlEscaped());
    m_chain->setText(state.ok ? tr("<b style='color:#1b7f3b'>Chain %1</b><br>%2").arg(state.summary.toHtmlEscaped(), key)
                              : tr("<b style='color:#c62828'>Chain BROKEN: %1</b><br>%2")
                                    .arg(state.summary.toHtmlEscaped(), key));
}

void AuditView::showSelected()
{
    const QModelIndex current = m_table->currentIndex();
    const QByteArray line = current.data(AuditTableModel::LineRole).toByteArray();
    const qint64 seq = current.data(AuditTableModel::SeqRole).toLongLong();
    if (line.isEmpty()) {
        m_detail->clear();
        m_showInRun->setEnabled(false);
        return;
    }
    const AuditTableModel::Row *row = nullptr;
    for (int r = 0; r < m_model->rowCount(); ++r)
        if (m_model->rowAt(r)->seq == seq)
            row = m_model->rowAt(r);
    // The exact bytes first (what the chain hashes), then the same record laid out to read.
    const QJsonDocument doc = QJsonDocument::fromJson(line);
    QString text = tr("seq %1, the exact line (hashed):\n%2\n\nsha256: %3\n")
                       .arg(seq)
                       .arg(QString::fromUtf8(line), row ? QString::fromLatin1(row->hash) : QString());
    if (doc.isObject())
        text += tr("\nReadable (keys sorted):\n") + QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
    m_detail->setPlainText(text);
    m_showInRun->setEnabled(!current.data(AuditTableModel::RunRole).toString().isEmpty());
}

} // namespace Breaker
