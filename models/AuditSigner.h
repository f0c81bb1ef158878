#pragma once

#include "models/Result.h"

#include <QByteArray>
#include <QByteArrayView>

#include <memory>

typedef struct evp_pkey_st EVP_PKEY;

namespace Breaker {

// An Ed25519 public key (OpenSSL 3, EVP): verifies checkpoint and manifest signatures.
// Its fingerprint is the lowercase hex SHA-256 of its DER SubjectPublicKeyInfo, which is what
// `openssl pkey -pubin -in public-key.pem -outform DER | sha256sum` prints.
class AuditPublicKey
{
public:
    static Result<AuditPublicKey> fromPem(QByteArrayView pem);

    QByteArray pem() const;         // "-----BEGIN PUBLIC KEY-----" ...
    QByteArray der() const;         // SubjectPublicKeyInfo
    QByteArray fingerprint() const; // 64 lowercase hex characters
    // A raw 64-byte Ed25519 signature over `message` (no pre-hash).
    bool verify(QByteArrayView message, QByteArrayView signature) const;

private:
    friend class AuditSigner;
    explicit AuditPublicKey(std::shared_ptr<EVP_PKEY> key);
    std::shared_ptr<EVP_PKEY> m_key;
    QByteArray m_fingerprint;
};

// The audit trail's signing key pair (DESIGN.md section 7): created once, kept in the OS
// keychain or a 0600 file (app/services/AuditKeyStore), used for checkpoints and exports.
class AuditSigner
{
public:
    static Result<AuditSigner> generate();
    // A PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"); it must be Ed25519.
    static Result<AuditSigner> fromPrivatePem(QByteArrayView pem);

    // PKCS#8 PEM. The caller keeps it only as long as it takes to store it, then scrubs it.
    QByteArray privatePem() const;
    const AuditPublicKey &publicKey() const { return m_public; }
    QByteArray fingerprint() const { return m_public.fingerprint(); }
    // A raw 64-byte Ed25519 signature over `message`.
    Result<QByteArray> sign(QByteArrayView message) const;

private:
    AuditSigner(std::shared_ptr<EVP_PKEY> key, AuditPublicKey pub);
    static Result<AuditSigner> fromKey(EVP_PKEY *key); // takes ownership
    std::shared_ptr<EVP_PKEY> m_key;
    AuditPublicKey m_public;
};

} // namespace Breaker
