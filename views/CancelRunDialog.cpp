#include "views/CancelRunDialog.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace Breaker {

CancelRunDialog::CancelRunDialog(const Run &run, const QString &plan, QWidget *parent)
    : QDialog(parent)
{
    setWindowTitle(tr("Cancel run %1").arg(QString::fromUtf8(run.id)));
    setObjectName(QStringLiteral("cancelRunDialog"));
    auto *layout = new QVBoxLayout(this);

    auto *headline = new QLabel(
        tr("<b>Cancel run %1?</b><br>Agent <b>%2</b>, acting for <b>%3</b>.")
            .arg(QString::fromUtf8(run.id).toHtmlEscaped(),
                 QString::fromUtf8(run.agent.isEmpty() ? QByteArray("unknown") : run.agent).toHtmlEscaped(),
                 QString::fromUtf8(run.principal.isEmpty() ? QByteArray("an unknown principal") : run.principal)
                     .toHtmlEscaped()),
        this);
    headline->setTextFormat(Qt::RichText);
    layout->addWidget(headline);

    auto *planLabel = new QLabel(plan + QLatin1Char('\n')
                                     + tr("The run's runtime is asked to cancel it; Breaker then reads it back and "
                                          "watches its telemetry to prove it stopped. A cancelled run cannot be "
                                          "resumed."),
                                 this);
    planLabel->setWordWrap(true);
    planLabel->setObjectName(QStringLiteral("cancelPlan"));
    layout->addWidget(planLabel);

    auto *form = new QFormLayout;
    m_reason = new QLineEdit(this);
    m_reason->setObjectName(QStringLiteral("cancelReason"));
    m_reason->setPlaceholderText(tr("Why (required; recorded in the audit trail)"));
    m_reason->setAccessibleName(tr("Reason for cancelling"));
    form->addRow(tr("&Reason:"), m_reason);
    layout->addLayout(form);

    auto *buttons = new QDialogButtonBox(this);
    m_keep = buttons->addButton(tr("&Keep running"), QDialogButtonBox::RejectRole);
    m_cancelRun = buttons->addButton(tr("&Cancel run"), QDialogButtonBox::AcceptRole);
    m_cancelRun->setObjectName(QStringLiteral("confirmCancelRun"));
    m_cancelRun->setEnabled(false);
    m_keep->setDefault(true);
    m_keep->setAutoDefault(true);
    m_cancelRun->setAutoDefault(false);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_reason, &QLineEdit::textChanged, this,
            [this](const QString &text) { m_cancelRun->setEnabled(!text.trimmed().isEmpty()); });
    layout->addWidget(buttons);
    m_reason->setFocus();
}

QString CancelRunDialog::reason() const
{
    return m_reason->text().trimmed();
}

} // namespace Breaker
