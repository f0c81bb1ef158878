// breakerctl sandbox: the sandbox fleet alone, with the sandbox's own options.
#include "app/breakerctl/CtlContext.h"

#include "app/services/SandboxProcess.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <unistd.h>
#include <vector>

namespace Breaker::Ctl {

int runSandbox(Context &ctx, int argc, char *argv[])
{
    // The same program the console starts: replace this process with it, so that signals,
    // output and the exit status are the sandbox's own.
    const QByteArray program = QFile::encodeName(SandboxProcess::locateExecutable());
    std::vector<char *> args;
    args.push_back(const_cast<char *>(program.constData()));
    for (int i = 2; i < argc; ++i)
        args.push_back(argv[i]);
    args.push_back(nullptr);
    ::execvp(program.constData(), args.data());
    return ctx.fail(Unreachable, QStringLiteral("cannot run %1: %2")
                                     .arg(QString::fromLocal8Bit(program), QString::fromLocal8Bit(std::strerror(errno))));
}

} // namespace Breaker::Ctl
