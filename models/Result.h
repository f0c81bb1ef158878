#pragma once

#include <QString>

#include <optional>
#include <utility>
#include <variant>

namespace Breaker {

// A failure that carries who said what, so it can travel up to the operator unchanged.
struct Error
{
    enum class Kind {
        Invalid,      // the input (a body, a profile, an argument) is wrong
        NotFound,
        Unavailable,  // a store or provider could not be reached
        DiskFull,
        Conflict,     // someone else got there first
        Timeout,
        Internal,
    };
    Kind kind = Kind::Internal;
    QString message;  // what happened, in words
    QString where;    // which provider, file, JSON path or field (may be empty)
};

// expected-style result: either a value or an Error.
template<typename T>
class Result
{
public:
    Result(T value) : m_v(std::move(value)) {}
    Result(Error error) : m_v(std::move(error)) {}

    bool ok() const { return std::holds_alternative<T>(m_v); }
    explicit operator bool() const { return ok(); }
    T &value() { return std::get<T>(m_v); }
    const T &value() const { return std::get<T>(m_v); }
    T &operator*() { return value(); }
    const T &operator*() const { return value(); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    const Error &error() const { return std::get<Error>(m_v); }

private:
    std::variant<T, Error> m_v;
};

template<>
class Result<void>
{
public:
    Result() = default;
    Result(Error error) : m_error(std::move(error)) {}
    bool ok() const { return !m_error.has_value(); }
    explicit operator bool() const { return ok(); }
    const Error &error() const { return *m_error; }

private:
    std::optional<Error> m_error;
};

inline Error makeError(Error::Kind kind, QString message, QString where = {})
{
    return Error{kind, std::move(message), std::move(where)};
}

} // namespace Breaker
