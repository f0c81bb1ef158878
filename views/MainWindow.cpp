#include "views/MainWindow.h"

namespace Breaker {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
{
    setWindowTitle(tr("Breaker"));
}

} // namespace Breaker
