#include "models/RunTypes.h"

#include <QTest>

using namespace Breaker;

class tst_RunTypes : public QObject
{
    Q_OBJECT
private slots:
    void statusNames_data();
    void statusNames();
    void unknownNamesAreRefused();
};

void tst_RunTypes::statusNames_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("terminal");
    QTest::newRow("submitted") << QByteArray("submitted") << false;
    QTest::newRow("working") << QByteArray("working") << false;
    QTest::newRow("waiting_approval") << QByteArray("waiting_approval") << false;
    QTest::newRow("stopping") << QByteArray("stopping") << false;
    QTest::newRow("stopped") << QByteArray("stopped") << true;
    QTest::newRow("completed") << QByteArray("completed") << true;
    QTest::newRow("failed") << QByteArray("failed") << true;
    QTest::newRow("rejected") << QByteArray("rejected") << true;
    QTest::newRow("unknown") << QByteArray("unknown") << false;
}

void tst_RunTypes::statusNames()
{
    QFETCH(QByteArray, name);
    QFETCH(bool, terminal);
    const auto status = runStatusFromWireName(name);
    QVERIFY(status.has_value());
    QCOMPARE(toWireName(*status), name);
    QCOMPARE(isTerminal(*status), terminal);
}

void tst_RunTypes::unknownNamesAreRefused()
{
    QVERIFY(!runStatusFromWireName("canceled").has_value());
    QVERIFY(!eventKindFromWireName("toolcall").has_value());
    QCOMPARE(toWireName(*eventKindFromWireName("policy_block")), QByteArray("policy_block"));
}

QTEST_APPLESS_MAIN(tst_RunTypes)
#include "tst_runtypes.moc"
