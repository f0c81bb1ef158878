#include "views/AuditExportDialog.h"

#include <QCheckBox>
#include <QDateTime>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>

namespace Breaker {

namespace {

// A bound typed as a seq ("120") or a time ("2026-11-27", "2026-11-27T10:00:00Z").
Result<void> parseBound(const QString &typed, const QString &field, std::optional<qint64> &seq,
                        std::optional<qint64> &ms)
{
    const QString t = typed.trimmed();
    if (t.isEmpty())
        return {};
    bool isNumber = false;
    const qint64 n = t.toLongLong(&isNumber);
    if (isNumber) {
        if (n < 1)
            return makeError(Error::Kind::Invalid, QStringLiteral("%1: a seq starts at 1, not %2").arg(field, t));
        seq = n;
        return {};
    }
    if (auto parsed = parseAuditTime(t)) {
        ms = *parsed;
        return {};
    }
    return makeError(Error::Kind::Invalid,
                     QStringLiteral("%1: \"%2\" is neither a seq nor a time such as 2026-11-27 or "
                                    "2026-11-27T10:00:00Z")
                         .arg(field, t));
}

} // namespace

AuditExportDialog::AuditExportDialog(AuditActions *actions, QWidget *parent)
    : QDialog(parent)
    , m_actions(actions)
{
    setObjectName(QStringLiteral("auditExportDialog"));
    setWindowTitle(tr("Export audit trail"));
    auto *layout = new QVBoxLayout(this);
    auto *intro = new QLabel(tr("A contiguous range of the chain in <tt>audit.jsonl</tt>, signed: a reviewer checks it "
                                "with <tt>breakerctl audit verify</tt> or with <tt>sha256sum</tt> and "
                                "<tt>openssl</tt> alone (docs/AUDIT.md). Filters shape only the CSV and OCSF files."),
                             this);
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto *form = new QFormLayout;
    auto *folderRow = new QHBoxLayout;
    m_folder = new QLineEdit(this);
    m_folder->setObjectName(QStringLiteral("exportFolder"));
    m_folder->setText(QDir(QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation))
                          .filePath(QStringLiteral("breaker-audit-%1")
                                        .arg(QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-HHmmss")))));
    m_folder->setToolTip(tr("A new folder: an existing one is never written into"));
    folderRow->addWidget(m_folder, 1);
    auto *browse = new QPushButton(tr("&Browse…"), this);
    folderRow->addWidget(browse);
    form->addRow(tr("New &folder:"), folderRow);
    m_from = new QLineEdit(this);
    m_from->setPlaceholderText(tr("first seq or time (empty: the beginning)"));
    form->addRow(tr("F&rom:"), m_from);
    m_to = new QLineEdit(this);
    m_to->setPlaceholderText(tr("last seq, or time (exclusive) (empty: the head)"));
    form->addRow(tr("&To:"), m_to);
    m_agent = new QLineEdit(this);
    form->addRow(tr("&Agent:"), m_agent);
    m_run = new QLineEdit(this);
    form->addRow(tr("R&un:"), m_run);
    m_principal = new QLineEdit(this);
    form->addRow(tr("&Principal:"), m_principal);
    m_action = new QLineEdit(this);
    m_action->setPlaceholderText(tr("e.g. stop (matches stop.layer, stop.completed, …)"));
    form->addRow(tr("A&ction:"), m_action);
    auto *formats = new QHBoxLayout;
    auto *jsonl = new QCheckBox(tr("audit.jsonl (always)"), this);
    jsonl->setChecked(true);
    jsonl->setEnabled(false);
    m_csv = new QCheckBox(tr("audit.&csv"), this);
    m_csv->setChecked(true);
    m_ocsf = new QCheckBox(tr("audit.&ocsf.jsonl"), this);
    m_ocsf->setChecked(true);
    formats->addWidget(jsonl);
    formats->addWidget(m_csv);
    formats->addWidget(m_ocsf);
    formats->addStretch(1);
    form->addRow(tr("Files:"), formats);
    layout->addLayout(form);

    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setAccessibleName(tr("Export progress"));
    layout->addWidget(m_progress);
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("exportStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);

    auto *buttons = new QDialogButtonBox(this);
    m_close = buttons->addButton(QDialogButtonBox::Close);
    m_export = buttons->addButton(tr("&Export"), QDialogButtonBox::AcceptRole);
    m_export->setDefault(true);
    layout->addWidget(buttons);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString parentDir = QFileDialog::getExistingDirectory(this, tr("Where to create the export folder"));
        if (!parentDir.isEmpty())
            m_folder->setText(QDir(parentDir).filePath(QFileInfo(m_folder->text()).fileName()));
    });
    connect(m_export, &QPushButton::clicked, this, &AuditExportDialog::start);
    connect(m_close, &QPushButton::clicked, this, &QDialog::reject);
    connect(m_actions, &AuditActions::exportProgress, this, [this](qint64 done, qint64 total) {
        if (!m_running)
            return;
        // QProgressBar counts in int: scale large trails.
        const int scale = total > 1'000'000'000 ? 1000 : 1;
        m_progress->setRange(0, int(std::max<qint64>(1, total / scale)));
        m_progress->setValue(int(done / scale));
        m_status->setText(tr("Exporting: %1 of %2 records…").arg(done).arg(total));
    });
    connect(m_actions, &AuditActions::exportFinished, this, &AuditExportDialog::finish);
}

Result<AuditExportOptions> AuditExportDialog::options() const
{
    AuditExportOptions o;
    o.outDir = m_folder->text().trimmed();
    if (o.outDir.isEmpty())
        return makeError(Error::Kind::Invalid, tr("Folder: name the new folder to create"));
    if (QFileInfo::exists(o.outDir))
        return makeError(Error::Kind::Invalid,
                         tr("Folder: %1 already exists; an export is always a new folder").arg(o.outDir));
    if (auto r = parseBound(m_from->text(), tr("From"), o.fromSeq, o.fromMs); !r)
        return r.error();
    if (auto r = parseBound(m_to->text(), tr("To"), o.toSeq, o.toMs); !r)
        return r.error();
    o.filter.agent = m_agent->text().trimmed();
    o.filter.run = m_run->text().trimmed();
    o.filter.principal = m_principal->text().trimmed();
    o.filter.action = m_action->text().trimmed();
    o.csv = m_csv->isChecked();
    o.ocsf = m_ocsf->isChecked();
    return o;
}

void AuditExportDialog::start()
{
    auto o = options();
    if (!o) {
        m_status->setText(QStringLiteral("<b style='color:#c62828'>%1</b>").arg(o.error().message.toHtmlEscaped()));
        return;
    }
    m_running = true;
    for (QWidget *w : findChildren<QLineEdit *>())
        w->setEnabled(false);
    m_export->setEnabled(false);
    m_close->setEnabled(false); // until the outcome is in: the folder appears whole or not at all
    m_progress->setRange(0, 0); // busy until the first page
    m_status->setText(tr("Exporting…"));
    m_actions->exportTrail(*o);
}

void AuditExportDialog::finish(bool ok, const QString &message, const QString &dir)
{
    if (!m_running)
        return;
    m_running = false;
    m_close->setEnabled(true);
    m_close->setFocus();
    m_progress->setRange(0, 1);
    m_progress->setValue(ok ? 1 : 0);
    Q_UNUSED(dir);
    const QString headline = ok ? QStringLiteral("<b style='color:#1b7f3b'>%1</b><br>").arg(tr("Exported."))
                                : QStringLiteral("<b style='color:#c62828'>%1</b> ").arg(tr("Export failed:"));
    m_status->setText(headline + message.toHtmlEscaped());
    if (!ok) {
        // Nothing half-written is left; let the operator fix the input and try again.
        for (QWidget *w : findChildren<QLineEdit *>())
            w->setEnabled(true);
        m_export->setEnabled(true);
    }
}

} // namespace Breaker
