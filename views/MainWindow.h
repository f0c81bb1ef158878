#pragma once

#include <QMainWindow>

namespace Breaker {

class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
};

} // namespace Breaker
