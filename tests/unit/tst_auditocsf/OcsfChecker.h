#pragma once

#include <QHash>
#include <QJsonObject>
#include <QMap>
#include <QString>
#include <QStringList>

// A validator for OCSF events against the class definitions in tests/data/ocsf/ (the schema's
// source files, not a compiled schema): it resolves `extends` chains, `$include`d profiles and
// per-level overrides the way tests/data/ocsf/README.md describes, then checks an event:
//   - every attribute the class (or an object inside it) marks "required" is present and not
//     null, profile attributes only when metadata.profiles applies that profile;
//   - every attribute present is defined by the class or object (except inside `object`-typed
//     containers such as `unmapped`), and belongs to no profile the event does not apply;
//   - types per the dictionary (or the local override): string/integer/boolean/json, the
//     *_t types with their regex/max_len/range, arrays, objects (recursively);
//   - enum ids are values of the merged dictionary + class/object enum, their sibling string
//     equals the caption (or carries the source's label for 99 Other);
//   - at_least_one constraints; class_uid/category_uid/type_uid and their names agree;
//     metadata.version is the spec's version; deprecated classes and attributes are reported.
class OcsfChecker
{
public:
    bool load(const QString &dir, QString *error);
    QString version() const { return m_version; }

    // One line per problem, each naming its path ("metadata.product: required ..."); empty
    // when the event conforms to the class its class_uid claims.
    QStringList check(const QJsonObject &event) const;

    // The attributes a class requires at the top level with these profiles applied.
    QStringList requiredAttributes(int classUid, const QStringList &profiles = {}) const;

private:
    struct Attribute
    {
        QJsonObject def; // the merged definition keys (requirement, type, enum, ...)
        QString profile; // the profile that brought it, empty for a core attribute
    };
    struct Definition
    {
        QString name;
        QString caption;
        int uid = 0;         // class_uid for event classes
        int categoryUid = 0; // event classes only
        QString categoryName;
        QJsonObject deprecated;
        QMap<QString, Attribute> attributes;
        QJsonObject constraints;
    };

    Definition
    resolve(const QHash<QString, QJsonObject> &files, const QString &name, int depth = 0) const;
    void checkObject(const Definition &def,
                     const QJsonObject &value,
                     const QString &path,
                     const QStringList &profiles,
                     QStringList &errors) const;
    void checkValue(const QString &name,
                    const Attribute &attr,
                    const QJsonValue &value,
                    const QString &path,
                    const QJsonObject &owner,
                    const QStringList &profiles,
                    QStringList &errors) const;
    void checkType(const QString &type,
                   const QJsonValue &value,
                   const QString &path,
                   const QStringList &profiles,
                   QStringList &errors) const;

    QString m_version;
    QHash<QString, QJsonObject> m_events;   // by name
    QHash<QString, QJsonObject> m_objects;  // by name
    QHash<QString, QJsonObject> m_profiles; // by path relative to the spec folder
    QJsonObject m_dictionary;               // attribute name -> entry (both dictionary files)
    QJsonObject m_types;                    // *_t -> entry
    QJsonObject m_categories;               // name -> {uid, caption}
    QMap<int, Definition> m_classes;        // class_uid -> resolved class
    QHash<QString, Definition> m_resolvedObjects;
};
