#pragma once

#include "app/services/AuditActions.h"

#include <QDialog>

class QCheckBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace Breaker {

// File › Export audit trail… (issue 5 item 4): the folder to create, the range (by seq or time,
// both optional: the whole chain), the filters that shape only audit.csv and audit.ocsf.jsonl,
// a progress bar while it streams, and where it went with the key's fingerprint when done.
class AuditExportDialog : public QDialog
{
    Q_OBJECT
public:
    explicit AuditExportDialog(AuditActions *actions, QWidget *parent = nullptr);

    QLineEdit *folderField() const { return m_folder; }
    QLineEdit *fromField() const { return m_from; }
    QLineEdit *toField() const { return m_to; }
    QCheckBox *csvBox() const { return m_csv; }
    QCheckBox *ocsfBox() const { return m_ocsf; }
    QPushButton *exportButton() const { return m_export; }
    QProgressBar *progressBar() const { return m_progress; }
    QLabel *statusLabel() const { return m_status; }
    bool isRunning() const { return m_running; }

    // The options as typed, or why they are wrong (names the field).
    Result<AuditExportOptions> options() const;

private:
    void start();
    void finish(bool ok, const QString &message, const QString &dir);

    AuditActions *m_actions;
    QLineEdit *m_folder = nullptr;
    QLineEdit *m_from = nullptr;
    QLineEdit *m_to = nullptr;
    QLineEdit *m_agent = nullptr;
    QLineEdit *m_run = nullptr;
    QLineEdit *m_principal = nullptr;
    QLineEdit *m_action = nullptr;
    QCheckBox *m_csv = nullptr;
    QCheckBox *m_ocsf = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QPushButton *m_export = nullptr;
    QPushButton *m_close = nullptr;
    bool m_running = false;
};

} // namespace Breaker
