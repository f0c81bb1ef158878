#include "models/AuditSigner.h"

#include "models/AuditRecord.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace Breaker {

namespace {

constexpr int kSignatureBytes = 64;

// OpenSSL's own words for the last failure, for the operator.
QString opensslError(const char *doing)
{
    QString text = QString::fromLatin1(doing);
    unsigned long code = 0;
    bool first = true;
    while ((code = ERR_get_error()) != 0) {
        char buffer[256];
        ERR_error_string_n(code, buffer, sizeof buffer);
        text += first ? QStringLiteral(": ") : QStringLiteral("; ");
        text += QString::fromLatin1(buffer);
        first = false;
    }
    return text;
}

std::shared_ptr<EVP_PKEY> own(EVP_PKEY *key)
{
    return std::shared_ptr<EVP_PKEY>(key, EVP_PKEY_free);
}

struct BioDeleter
{
    void operator()(BIO *b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioDeleter>;

struct MdCtxDeleter
{
    void operator()(EVP_MD_CTX *c) const { EVP_MD_CTX_free(c); }
};
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

QByteArray bioBytes(BIO *bio)
{
    char *data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    return size > 0 ? QByteArray(data, qsizetype(size)) : QByteArray();
}

QByteArray publicDer(EVP_PKEY *key)
{
    unsigned char *der = nullptr;
    const int size = i2d_PUBKEY(key, &der);
    if (size <= 0)
        return {};
    QByteArray out(reinterpret_cast<const char *>(der), size);
    OPENSSL_free(der);
    return out;
}

} // namespace

AuditPublicKey::AuditPublicKey(std::shared_ptr<EVP_PKEY> key)
    : m_key(std::move(key))
    , m_fingerprint(sha256Hex(publicDer(m_key.get())))
{}

Result<AuditPublicKey> AuditPublicKey::fromPem(QByteArrayView pem)
{
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
    if (!bio)
        return makeError(Error::Kind::Internal, opensslError("reading the public key"));
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
    if (!key)
        return makeError(Error::Kind::Invalid,
                         opensslError("not a PEM public key (-----BEGIN PUBLIC KEY-----)"));
    auto owned = own(key);
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519)
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("the public key is not an Ed25519 key (it is %1)")
                             .arg(QString::fromLatin1(OBJ_nid2sn(EVP_PKEY_get_id(key)))));
    return AuditPublicKey(std::move(owned));
}

QByteArray AuditPublicKey::pem() const
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), m_key.get()) != 1)
        return {};
    return bioBytes(bio.get());
}

QByteArray AuditPublicKey::der() const
{
    return publicDer(m_key.get());
}

QByteArray AuditPublicKey::fingerprint() const
{
    return m_fingerprint;
}

bool AuditPublicKey::verify(QByteArrayView message, QByteArrayView signature) const
{
    if (signature.size() != kSignatureBytes)
        return false;
    MdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, m_key.get()) != 1) {
        ERR_clear_error();
        return false;
    }
    const int rc = EVP_DigestVerify(ctx.get(),
                                    reinterpret_cast<const unsigned char *>(signature.data()),
                                    size_t(signature.size()),
                                    reinterpret_cast<const unsigned char *>(message.data()),
                                    size_t(message.size()));
    ERR_clear_error();
    return rc == 1;
}

AuditSigner::AuditSigner(std::shared_ptr<EVP_PKEY> key, AuditPublicKey pub)
    : m_key(std::move(key))
    , m_public(std::move(pub))
{}

Result<AuditSigner> AuditSigner::fromKey(EVP_PKEY *raw)
{
    auto key = own(raw);
    // The public half as a key of its own, with no private part.
    const QByteArray der = publicDer(raw);
    if (der.isEmpty())
        return makeError(Error::Kind::Internal, opensslError("encoding the public key"));
    const auto *p = reinterpret_cast<const unsigned char *>(der.constData());
    EVP_PKEY *pub = d2i_PUBKEY(nullptr, &p, long(der.size()));
    if (!pub)
        return makeError(Error::Kind::Internal, opensslError("decoding the public key"));
    return AuditSigner(std::move(key), AuditPublicKey(own(pub)));
}

Result<AuditSigner> AuditSigner::generate()
{
    ERR_clear_error();
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!key)
        return makeError(Error::Kind::Internal, opensslError("creating an Ed25519 key pair"));
    return fromKey(key);
}

Result<AuditSigner> AuditSigner::fromPrivatePem(QByteArrayView pem)
{
    ERR_clear_error();
    BioPtr bio(BIO_new_mem_buf(pem.data(), int(pem.size())));
    if (!bio)
        return makeError(Error::Kind::Internal, opensslError("reading the private key"));
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
    if (!key) {
        ERR_clear_error(); // its words may quote the input
        return makeError(Error::Kind::Invalid,
                         QStringLiteral("not a PEM private key (-----BEGIN PRIVATE KEY-----)"));
    }
    if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
        const QString type = QString::fromLatin1(OBJ_nid2sn(EVP_PKEY_get_id(key)));
        EVP_PKEY_free(key);
        return makeError(
            Error::Kind::Invalid,
            QStringLiteral("the signing key is not an Ed25519 key (it is %1)").arg(type));
    }
    return fromKey(key);
}

QByteArray AuditSigner::privatePem() const
{
    BioPtr bio(BIO_new(BIO_s_mem()));
    // PKCS#8, unencrypted: the keychain or the 0600 file is what protects it.
    if (!bio
        || PEM_write_bio_PKCS8PrivateKey(
               bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr, nullptr)
               != 1)
        return {};
    QByteArray out = bioBytes(bio.get());
    // The BIO's buffer held the key: clear it before it is freed.
    char *data = nullptr;
    if (const long size = BIO_get_mem_data(bio.get(), &data); size > 0)
        OPENSSL_cleanse(data, size_t(size));
    return out;
}

Result<QByteArray> AuditSigner::sign(QByteArrayView message) const
{
    ERR_clear_error();
    MdCtxPtr ctx(EVP_MD_CTX_new());
    // Ed25519 signs the message itself: no digest is named.
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, m_key.get()) != 1)
        return makeError(Error::Kind::Internal, opensslError("preparing an Ed25519 signature"));
    QByteArray signature(kSignatureBytes, '\0');
    size_t size = size_t(signature.size());
    if (EVP_DigestSign(ctx.get(),
                       reinterpret_cast<unsigned char *>(signature.data()),
                       &size,
                       reinterpret_cast<const unsigned char *>(message.data()),
                       size_t(message.size()))
            != 1
        || size != size_t(kSignatureBytes))
        return makeError(Error::Kind::Internal, opensslError("signing with Ed25519"));
    return signature;
}

} // namespace Breaker
