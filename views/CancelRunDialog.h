#pragma once

#include "models/RunTypes.h"

#include <QDialog>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPushButton;

namespace Breaker {

// Confirmation before a run is cancelled: it names the run, the agent and the principal, says
// what will be done (the plan), and takes a reason, which is required (it goes to the audit
// trail). "Keep running" is the default button, so Enter alone never cancels.
class CancelRunDialog : public QDialog
{
    Q_OBJECT
public:
    CancelRunDialog(const Run &run, const QString &plan, QWidget *parent = nullptr);

    QString reason() const;
    QLineEdit *reasonField() const { return m_reason; }
    QPushButton *cancelRunButton() const { return m_cancelRun; }
    QPushButton *keepButton() const { return m_keep; }

private:
    QLineEdit *m_reason = nullptr;
    QPushButton *m_cancelRun = nullptr;
    QPushButton *m_keep = nullptr;
};

} // namespace Breaker
