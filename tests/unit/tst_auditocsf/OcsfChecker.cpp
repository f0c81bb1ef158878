#include "OcsfChecker.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>

#include <algorithm>
#include <cmath>

namespace {

bool readJson(const QString &path, QJsonObject *out, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot open %1").arg(path);
        return false;
    }
    QJsonParseError parse;
    const QJsonDocument doc = QJsonDocument::fromJson(file.readAll(), &parse);
    if (!doc.isObject()) {
        *error = QStringLiteral("%1: %2").arg(path, parse.errorString());
        return false;
    }
    *out = doc.object();
    return true;
}

bool missing(const QJsonValue &v)
{
    return v.isNull() || v.isUndefined();
}

bool isInteger(const QJsonValue &v)
{
    return v.isDouble() && std::trunc(v.toDouble()) == v.toDouble();
}

QString join(const QString &path, const QString &key)
{
    return path.isEmpty() ? key : path + QLatin1Char('.') + key;
}

// A child's keys override its parent's; enums are the union (a class adds its activities to
// the base event's 0 Unknown and 99 Other).
void mergeDefinition(QJsonObject &into, const QJsonObject &from)
{
    for (auto it = from.begin(); it != from.end(); ++it) {
        if (it.key() == QLatin1String("enum")) {
            QJsonObject merged = into.value(QLatin1String("enum")).toObject();
            const QJsonObject more = it.value().toObject();
            for (auto e = more.begin(); e != more.end(); ++e)
                merged.insert(e.key(), e.value());
            into.insert(QStringLiteral("enum"), merged);
        } else {
            into.insert(it.key(), it.value());
        }
    }
}

const QStringList kClassification
    = {QStringLiteral("class_uid"), QStringLiteral("category_uid"), QStringLiteral("type_uid")};

} // namespace

bool OcsfChecker::load(const QString &dir, QString *error)
{
    QJsonObject version, dictionary, objectDictionary, categories;
    if (!readJson(dir + QStringLiteral("/version.json"), &version, error)
        || !readJson(dir + QStringLiteral("/dictionary-subset.json"), &dictionary, error)
        || !readJson(
            dir + QStringLiteral("/dictionary-subset-objects.json"), &objectDictionary, error)
        || !readJson(dir + QStringLiteral("/dictionary-types-subset.json"), &m_types, error)
        || !readJson(dir + QStringLiteral("/categories.json"), &categories, error))
        return false;
    m_version = version.value(QLatin1String("version")).toString();
    m_dictionary = dictionary;
    for (auto it = objectDictionary.begin(); it != objectDictionary.end(); ++it)
        if (!m_dictionary.contains(it.key()))
            m_dictionary.insert(it.key(), it.value());
    m_categories = categories.value(QLatin1String("attributes")).toObject();

    struct Folder
    {
        const char *name;
        QHash<QString, QJsonObject> *into;
        bool byPath;
    } folders[] = {{"events", &m_events, false},
                   {"objects", &m_objects, false},
                   {"profiles", &m_profiles, true}};
    for (const Folder &f : folders) {
        const QString root = dir + QLatin1Char('/') + QLatin1String(f.name);
        QDirIterator it(
            root, {QStringLiteral("*.json")}, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            QJsonObject file;
            if (!readJson(path, &file, error))
                return false;
            const QString key = f.byPath ? QDir(dir).relativeFilePath(path)
                                         : file.value(QLatin1String("name")).toString();
            f.into->insert(key, file);
        }
    }
    if (m_events.isEmpty() || m_objects.isEmpty()) {
        *error = QStringLiteral("%1 holds no event classes or objects").arg(dir);
        return false;
    }

    for (auto it = m_objects.begin(); it != m_objects.end(); ++it)
        m_resolvedObjects.insert(it.key(), resolve(m_objects, it.key()));
    for (auto it = m_events.begin(); it != m_events.end(); ++it) {
        if (!it.value().contains(QLatin1String("uid")))
            continue; // base_event and the category parents are not classes of their own
        Definition d = resolve(m_events, it.key());
        const QJsonObject category = m_categories.value(d.categoryName).toObject();
        if (category.isEmpty()) {
            *error = QStringLiteral("class %1: unknown category %2").arg(d.name, d.categoryName);
            return false;
        }
        d.categoryUid = category.value(QLatin1String("uid")).toInt();
        d.categoryName = category.value(QLatin1String("caption")).toString();
        d.uid = d.categoryUid * 1000 + d.uid;
        m_classes.insert(d.uid, d);
    }
    // Every $include and every extends must resolve, or the checker would silently check less.
    const auto includesResolve = [this, error](const QHash<QString, QJsonObject> &files) {
        for (const QJsonObject &file : files) {
            const QString parent = file.value(QLatin1String("extends")).toString();
            if (!parent.isEmpty() && !files.contains(parent)) {
                *error = QStringLiteral("%1 extends %2, which is missing")
                             .arg(file.value(QLatin1String("name")).toString(), parent);
                return false;
            }
            const QJsonArray includes = file.value(QLatin1String("attributes"))
                                            .toObject()
                                            .value(QLatin1String("$include"))
                                            .toArray();
            for (const QJsonValue &inc : includes)
                if (!m_profiles.contains(inc.toString())) {
                    *error = QStringLiteral("%1 includes %2, which is missing")
                                 .arg(file.value(QLatin1String("name")).toString(), inc.toString());
                    return false;
                }
        }
        return true;
    };
    return includesResolve(m_events) && includesResolve(m_objects);
}

OcsfChecker::Definition
OcsfChecker::resolve(const QHash<QString, QJsonObject> &files, const QString &name, int depth) const
{
    Definition d;
    const QJsonObject file = files.value(name);
    if (file.isEmpty() || depth > 16)
        return d;
    if (const QString parent = file.value(QLatin1String("extends")).toString(); !parent.isEmpty())
        d = resolve(files, parent, depth + 1);
    d.name = name;
    d.caption = file.value(QLatin1String("caption")).toString();
    d.uid = file.value(QLatin1String("uid")).toInt();
    if (file.contains(QLatin1String("category")))
        d.categoryName = file.value(QLatin1String("category")).toString();
    d.deprecated = file.value(QLatin1String("@deprecated")).toObject();

    const QJsonObject attributes = file.value(QLatin1String("attributes")).toObject();
    // Profile attributes first, then the file's own, which override them.
    for (const QJsonValue &inc : attributes.value(QLatin1String("$include")).toArray()) {
        const QJsonObject profile = m_profiles.value(inc.toString());
        const QString profileName = profile.value(QLatin1String("name")).toString();
        const QJsonObject attrs = profile.value(QLatin1String("attributes")).toObject();
        for (auto it = attrs.begin(); it != attrs.end(); ++it) {
            const bool existed = d.attributes.contains(it.key());
            Attribute &a = d.attributes[it.key()];
            mergeDefinition(a.def, it.value().toObject());
            if (!existed || !a.profile.isEmpty())
                a.profile = profileName;
        }
    }
    for (auto it = attributes.begin(); it != attributes.end(); ++it) {
        if (it.key() == QLatin1String("$include"))
            continue;
        const QJsonObject def = it.value().toObject();
        Attribute &a = d.attributes[it.key()];
        mergeDefinition(a.def, def);
        if (def.contains(QLatin1String("profile"))) // "profile": null makes it a core attribute
            a.profile = def.value(QLatin1String("profile")).toString();
    }
    const QJsonObject constraints = file.value(QLatin1String("constraints")).toObject();
    for (auto it = constraints.begin(); it != constraints.end(); ++it)
        d.constraints.insert(it.key(), it.value());
    return d;
}

QStringList OcsfChecker::requiredAttributes(int classUid, const QStringList &profiles) const
{
    QStringList out;
    const auto it = m_classes.find(classUid);
    if (it == m_classes.end())
        return out;
    for (auto a = it->attributes.begin(); a != it->attributes.end(); ++a)
        if (a->def.value(QLatin1String("requirement")).toString() == QLatin1String("required")
            && (a->profile.isEmpty() || profiles.contains(a->profile)))
            out << a.key();
    out.sort();
    return out;
}

QStringList OcsfChecker::check(const QJsonObject &event) const
{
    QStringList errors;
    const QJsonValue classUid = event.value(QLatin1String("class_uid"));
    if (!isInteger(classUid))
        return {QStringLiteral("class_uid: required integer missing")};
    const auto cls = m_classes.find(classUid.toInt());
    if (cls == m_classes.end())
        return {QStringLiteral("class_uid: %1 is not a class in the copied spec")
                    .arg(classUid.toInt())};
    if (!cls->deprecated.isEmpty())
        errors << QStringLiteral("class_uid: %1 (%2) is deprecated since %3: %4")
                      .arg(cls->caption)
                      .arg(cls->uid)
                      .arg(cls->deprecated.value(QLatin1String("since")).toString(),
                           cls->deprecated.value(QLatin1String("message")).toString());

    QStringList profiles;
    for (const QJsonValue &p : event.value(QLatin1String("metadata"))
                                   .toObject()
                                   .value(QLatin1String("profiles"))
                                   .toArray())
        profiles << p.toString();
    checkObject(*cls, event, QString(), profiles, errors);

    // Classification: the ids agree with each other and with the class file.
    const QJsonValue activityId = event.value(QLatin1String("activity_id"));
    if (event.value(QLatin1String("category_uid")).toInt(-1) != cls->categoryUid)
        errors << QStringLiteral("category_uid: %1 is a class of category %2")
                      .arg(cls->caption)
                      .arg(cls->categoryUid);
    if (isInteger(activityId)
        && event.value(QLatin1String("type_uid")).toInteger(-1)
               != qint64(cls->uid) * 100 + activityId.toInt())
        errors << QStringLiteral("type_uid: must be class_uid * 100 + activity_id = %1")
                      .arg(qint64(cls->uid) * 100 + activityId.toInt());
    if (event.contains(QLatin1String("class_name"))
        && event.value(QLatin1String("class_name")).toString() != cls->caption)
        errors << QStringLiteral("class_name: must be \"%1\"").arg(cls->caption);
    if (event.contains(QLatin1String("category_name"))
        && event.value(QLatin1String("category_name")).toString() != cls->categoryName)
        errors << QStringLiteral("category_name: must be \"%1\"").arg(cls->categoryName);
    if (event.contains(QLatin1String("type_name"))) {
        const QString expected = cls->caption + QStringLiteral(": ")
                                 + event.value(QLatin1String("activity_name")).toString();
        if (event.value(QLatin1String("type_name")).toString() != expected)
            errors << QStringLiteral("type_name: must be \"%1\"").arg(expected);
    }
    const QJsonObject metadata = event.value(QLatin1String("metadata")).toObject();
    if (metadata.contains(QLatin1String("version"))
        && metadata.value(QLatin1String("version")).toString() != m_version)
        errors << QStringLiteral("metadata.version: the spec checked against is %1").arg(m_version);
    return errors;
}

void OcsfChecker::checkObject(const Definition &def,
                              const QJsonObject &value,
                              const QString &path,
                              const QStringList &profiles,
                              QStringList &errors) const
{
    for (auto a = def.attributes.begin(); a != def.attributes.end(); ++a) {
        const bool applies = a->profile.isEmpty() || profiles.contains(a->profile);
        if (applies
            && a->def.value(QLatin1String("requirement")).toString() == QLatin1String("required")
            && missing(value.value(a.key())))
            errors << QStringLiteral("%1: required by %2 but missing")
                          .arg(join(path, a.key()), def.name);
    }
    for (auto it = value.begin(); it != value.end(); ++it) {
        const QString at = join(path, it.key());
        const auto a = def.attributes.find(it.key());
        if (a == def.attributes.end()) {
            errors << QStringLiteral("%1: not an attribute of %2").arg(at, def.name);
            continue;
        }
        if (!a->profile.isEmpty() && !profiles.contains(a->profile))
            errors << QStringLiteral(
                          "%1: belongs to the %2 profile, which metadata.profiles does not apply")
                          .arg(at, a->profile);
        if (a->def.contains(QLatin1String("@deprecated")))
            errors << QStringLiteral("%1: deprecated in %2: %3")
                          .arg(at,
                               def.name,
                               a->def.value(QLatin1String("@deprecated"))
                                   .toObject()
                                   .value(QLatin1String("message"))
                                   .toString());
        if (it.value().isNull()) {
            errors << QStringLiteral("%1: null (an attribute without a value is left out)").arg(at);
            continue;
        }
        checkValue(it.key(), *a, it.value(), at, value, profiles, errors);
    }
    const auto present
        = [&value](const QJsonValue &name) { return !missing(value.value(name.toString())); };
    const QJsonArray atLeastOne = def.constraints.value(QLatin1String("at_least_one")).toArray();
    if (!atLeastOne.isEmpty() && std::none_of(atLeastOne.begin(), atLeastOne.end(), present))
        errors << QStringLiteral("%1: %2 needs at least one of %3")
                      .arg(path.isEmpty() ? QStringLiteral("(event)") : path,
                           def.name,
                           QString::fromUtf8(
                               QJsonDocument(atLeastOne).toJson(QJsonDocument::Compact)));
    const QJsonArray justOne = def.constraints.value(QLatin1String("just_one")).toArray();
    if (!justOne.isEmpty() && std::count_if(justOne.begin(), justOne.end(), present) != 1)
        errors << QStringLiteral("%1: %2 needs exactly one of %3")
                      .arg(
                          path.isEmpty() ? QStringLiteral("(event)") : path,
                          def.name,
                          QString::fromUtf8(QJsonDocument(justOne).toJson(QJsonDocument::Compact)));
}

void OcsfChecker::checkValue(const QString &name,
                             const Attribute &attr,
                             const QJsonValue &value,
                             const QString &path,
                             const QJsonObject &owner,
                             const QStringList &profiles,
                             QStringList &errors) const
{
    const QJsonObject dict = m_dictionary.value(name).toObject();
    if (dict.isEmpty()) {
        errors << QStringLiteral("%1: no dictionary entry for %2").arg(path, name);
        return;
    }
    const QString type = attr.def.contains(QLatin1String("type"))
                             ? attr.def.value(QLatin1String("type")).toString()
                             : dict.value(QLatin1String("type")).toString();
    const bool isArray = attr.def.contains(QLatin1String("is_array"))
                             ? attr.def.value(QLatin1String("is_array")).toBool()
                             : dict.value(QLatin1String("is_array")).toBool();
    if (isArray) {
        if (!value.isArray()) {
            errors << QStringLiteral("%1: must be an array of %2").arg(path, type);
            return;
        }
        const QJsonArray items = value.toArray();
        for (qsizetype i = 0; i < items.size(); ++i)
            checkType(
                type, items.at(i), QStringLiteral("%1[%2]").arg(path).arg(i), profiles, errors);
        return;
    }
    checkType(type, value, path, profiles, errors);

    QJsonObject values = dict.value(QLatin1String("enum")).toObject();
    mergeDefinition(values, attr.def.value(QLatin1String("enum")).toObject());
    if (values.isEmpty() || kClassification.contains(name) || !isInteger(value))
        return;
    const QString key = QString::number(value.toInteger());
    if (!values.contains(key)) {
        errors << QStringLiteral("%1: %2 is not a value of %3 here (valid: %4)")
                      .arg(path, key, name, values.keys().join(QStringLiteral(", ")));
        return;
    }
    const QString sibling = dict.value(QLatin1String("sibling")).toString();
    if (sibling.isEmpty())
        return;
    const QString siblingPath = path.left(path.size() - name.size()) + sibling;
    const QJsonValue label = owner.value(sibling);
    if (key == QLatin1String("99")) {
        if (label.toString().isEmpty())
            errors << QStringLiteral("%1: 99 Other needs %2 with the source's own label")
                          .arg(path, siblingPath);
        return;
    }
    const QString caption = values.value(key).toObject().value(QLatin1String("caption")).toString();
    if (owner.contains(sibling) && label.toString() != caption)
        errors << QStringLiteral("%1: must be the caption of %2 %3, \"%4\"")
                      .arg(siblingPath, name, key, caption);
}

void OcsfChecker::checkType(const QString &type,
                            const QJsonValue &value,
                            const QString &path,
                            const QStringList &profiles,
                            QStringList &errors) const
{
    if (type == QLatin1String("object")) { // an open container, such as unmapped
        if (!value.isObject())
            errors << QStringLiteral("%1: must be an object").arg(path);
        return;
    }
    if (!type.endsWith(QLatin1String("_t"))) {
        const auto def = m_resolvedObjects.find(type);
        if (def == m_resolvedObjects.end()) {
            errors
                << QStringLiteral(
                       "%1: object type %2 is not among the copied objects; it cannot be checked")
                       .arg(path, type);
            return;
        }
        if (!value.isObject()) {
            errors << QStringLiteral("%1: must be a %2 object").arg(path, type);
            return;
        }
        checkObject(*def, value.toObject(), path, profiles, errors);
        return;
    }
    // A data type: follow it to its base type, collecting the constraints on the way.
    QString base = type;
    QStringList regexes;
    int maxLength = -1;
    QJsonArray range;
    for (int guard = 0; guard < 8; ++guard) {
        const QJsonObject t = m_types.value(base).toObject();
        if (t.isEmpty()) {
            errors << QStringLiteral("%1: unknown data type %2").arg(path, base);
            return;
        }
        if (t.contains(QLatin1String("regex")))
            regexes << t.value(QLatin1String("regex")).toString();
        if (t.contains(QLatin1String("max_len")) && maxLength < 0)
            maxLength = t.value(QLatin1String("max_len")).toInt();
        if (t.contains(QLatin1String("range")) && range.isEmpty())
            range = t.value(QLatin1String("range")).toArray();
        const QString next = t.value(QLatin1String("type")).toString();
        if (next.isEmpty())
            break;
        base = next;
    }
    bool ok = true;
    if (base == QLatin1String("string_t"))
        ok = value.isString();
    else if (base == QLatin1String("integer_t") || base == QLatin1String("long_t"))
        ok = isInteger(value)
             && (base == QLatin1String("long_t") || std::fabs(value.toDouble()) <= 2147483647.0);
    else if (base == QLatin1String("float_t"))
        ok = value.isDouble();
    else if (base == QLatin1String("boolean_t"))
        ok = value.isBool();
    else if (base != QLatin1String("json_t"))
        ok = false;
    if (!ok) {
        errors << QStringLiteral("%1: must be of type %2 (%3)").arg(path, type, base);
        return;
    }
    for (const QString &regex : regexes)
        if (!QRegularExpression(regex).match(value.toString()).hasMatch())
            errors << QStringLiteral("%1: \"%2\" does not match %3's pattern")
                          .arg(path, value.toString(), type);
    if (maxLength >= 0 && value.toString().size() > maxLength)
        errors
            << QStringLiteral("%1: longer than %2's %3 characters").arg(path, type).arg(maxLength);
    if (range.size() == 2
        && (value.toDouble() < range.at(0).toDouble() || value.toDouble() > range.at(1).toDouble()))
        errors << QStringLiteral("%1: outside %2's range").arg(path, type);
}
