//! Service limits and room configuration, with the `muc#roomconfig` data
//! form (XEP-0045 §10.2, §15.5.3; XEP-0004). Defaults follow the product
//! requirements (REQUIREMENTS.md §5).

use xmpp_core::xml::Element;

use crate::error::MucError;
use crate::model::{PmPolicy, Policy};
use crate::ns;

/// Who may create rooms on the service (XEP-0045 §10.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreationPolicy {
    /// Any user.
    Anyone,
    /// Users of the listed domains.
    Domains(Vec<String>),
    /// Service administrators only.
    AdminsOnly,
}

/// Service-wide settings and limits. Every peer-controlled quantity is
/// bounded here.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Maximum rooms on the service ("Max rooms: 5500", a DoS mitigation).
    pub max_rooms: usize,
    /// Maximum persistent rooms (1500).
    pub max_persistent_rooms: usize,
    /// Upper bound for a room's `maxusers` (1000).
    pub max_occupants_limit: usize,
    /// A new room's `maxusers` (50).
    pub default_max_occupants: usize,
    /// Cap on messages kept and returned by a history or archive query (100).
    pub history_cap: usize,
    /// Messages shown on join by default (15).
    pub default_history: usize,
    /// Whether owners may change the history shown on join (no).
    pub owner_may_change_history: bool,
    /// Whether owners may make rooms semi-anonymous (no: anonymous rooms
    /// are off and owners cannot change that).
    pub allow_semi_anonymous: bool,
    /// Who may create rooms.
    pub creation: CreationPolicy,
    /// Whether only service administrators may make rooms persistent.
    pub persistent_requires_admin: bool,
    /// Service administrators (bare JIDs): treated as owners of every room.
    pub admins: Vec<xmpp_core::Jid>,
    /// Whether an invitation by an admin or owner (or by any occupant
    /// when `allowinvites` is on) to a members-only room makes the invitee
    /// a member.
    pub invite_adds_member: bool,
    /// Whether users may register with a room as members (XEP-0045 §7.10);
    /// off by default ("self-registration as member: off").
    pub allow_registration: bool,
    /// Whether ad hoc (temporary) rooms appear in the service's item list
    /// only to their owners and service admins.
    pub adhoc_discoverable_by_owner_only: bool,
    /// Maximum length of a nickname, in bytes.
    pub max_nick_len: usize,
    /// Maximum length of a room name, description, subject or password.
    pub max_text_len: usize,
    /// Maximum entries on one room's affiliation lists.
    pub max_affiliations: usize,
    /// Maximum rooms one user may occupy at once.
    pub max_rooms_per_user: usize,
    /// Secret mixed into occupant-ids (XEP-0421), so they cannot be
    /// linked across services. Inject from the host's key store.
    pub occupant_id_secret: Vec<u8>,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            max_rooms: 5500,
            max_persistent_rooms: 1500,
            max_occupants_limit: 1000,
            default_max_occupants: 50,
            history_cap: 100,
            default_history: 15,
            owner_may_change_history: false,
            allow_semi_anonymous: false,
            creation: CreationPolicy::Anyone,
            persistent_requires_admin: false,
            admins: Vec::new(),
            invite_adds_member: true,
            allow_registration: false,
            adhoc_discoverable_by_owner_only: true,
            max_nick_len: 256,
            max_text_len: 4096,
            max_affiliations: 10_000,
            max_rooms_per_user: 500,
            occupant_id_secret: Vec::new(),
        }
    }
}

/// Who may see occupants' real JIDs (`muc#roomconfig_whois`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whois {
    /// Everyone: a non-anonymous room.
    Anyone,
    /// Moderators only: a semi-anonymous room.
    Moderators,
}

/// One room's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomConfig {
    /// Natural-language room name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Persistent: the room outlives its occupants.
    pub persistent: bool,
    /// Public: listed in discovery.
    pub public: bool,
    /// Members-only (off by default).
    pub members_only: bool,
    /// Moderated (off by default).
    pub moderated: bool,
    /// Password to enter, if any.
    pub password: Option<String>,
    /// Maximum occupants (default 50, at most the service limit).
    pub max_occupants: usize,
    /// Who sees real JIDs.
    pub whois: Whois,
    /// In members-only rooms, whether participants may invite (off: only
    /// moderators may).
    pub allow_invites: bool,
    /// Whether participants may change the subject (on).
    pub change_subject: bool,
    /// Who may send private messages (anyone).
    pub allow_pm: PmPolicy,
    /// Messages shown on join (15).
    pub history_length: usize,
    /// Whether messages of a persistent room are archived (on).
    pub logging: bool,
    /// Whether the member list may be read by members (on).
    pub members_can_list: bool,
}

impl RoomConfig {
    /// The defaults of a new room under `service`.
    pub fn defaults(service: &ServiceConfig) -> RoomConfig {
        RoomConfig {
            name: String::new(),
            description: String::new(),
            persistent: false,
            public: true,
            members_only: false,
            moderated: false,
            password: None,
            max_occupants: service
                .default_max_occupants
                .min(service.max_occupants_limit),
            whois: Whois::Anyone,
            allow_invites: false,
            change_subject: true,
            allow_pm: PmPolicy::Anyone,
            history_length: service.default_history.min(service.history_cap),
            logging: true,
            members_can_list: true,
        }
    }

    /// The role permissions this configuration implies.
    pub fn policy(&self) -> Policy {
        Policy {
            moderated: self.moderated,
            members_only: self.members_only,
            allow_invites: self.allow_invites,
            change_subject: self.change_subject,
            allow_pm: self.allow_pm,
        }
    }

    /// The configuration form (`type='form'`) showing current values
    /// (XEP-0045 §10.2).
    pub fn to_form(&self, service: &ServiceConfig) -> Element {
        let mut x = Element::new("x", ns::DATA).with_attr("type", "form");
        x.append_child(Element::new("title", ns::DATA).with_text("Room configuration"));
        x.append_child(hidden("FORM_TYPE", ns::ROOMCONFIG));
        x.append_child(field(
            "muc#roomconfig_roomname",
            "text-single",
            "Room name",
            &[&self.name],
        ));
        x.append_child(field(
            "muc#roomconfig_roomdesc",
            "text-single",
            "Description",
            &[&self.description],
        ));
        x.append_child(boolean(
            "muc#roomconfig_persistentroom",
            "Persistent room",
            self.persistent,
        ));
        x.append_child(boolean(
            "muc#roomconfig_publicroom",
            "Listed in the directory",
            self.public,
        ));
        x.append_child(boolean(
            "muc#roomconfig_membersonly",
            "Members-only room",
            self.members_only,
        ));
        x.append_child(boolean(
            "muc#roomconfig_moderatedroom",
            "Moderated room",
            self.moderated,
        ));
        x.append_child(boolean(
            "muc#roomconfig_passwordprotectedroom",
            "Password required to enter",
            self.password.is_some(),
        ));
        x.append_child(field(
            "muc#roomconfig_roomsecret",
            "text-private",
            "Password",
            &[self.password.as_deref().unwrap_or("")],
        ));
        let mut max = field(
            "muc#roomconfig_maxusers",
            "list-single",
            "Maximum occupants",
            &[&self.max_occupants.to_string()],
        );
        for v in [10, 20, 30, 50, 100, 200, 500, 1000] {
            if v <= service.max_occupants_limit {
                max.append_child(option(&v.to_string()));
            }
        }
        x.append_child(max);
        let mut whois = field(
            "muc#roomconfig_whois",
            "list-single",
            "Who may discover real JIDs",
            &[match self.whois {
                Whois::Anyone => "anyone",
                Whois::Moderators => "moderators",
            }],
        );
        whois.append_child(option("anyone"));
        if service.allow_semi_anonymous {
            whois.append_child(option("moderators"));
        }
        x.append_child(whois);
        x.append_child(boolean(
            "muc#roomconfig_allowinvites",
            "Participants may invite to a members-only room",
            self.allow_invites,
        ));
        x.append_child(boolean(
            "muc#roomconfig_changesubject",
            "Participants may change the subject",
            self.change_subject,
        ));
        let mut pm = field(
            "muc#roomconfig_allowpm",
            "list-single",
            "Who may send private messages",
            &[self.allow_pm.as_str()],
        );
        for v in ["anyone", "participants", "moderators", "none"] {
            pm.append_child(option(v));
        }
        x.append_child(pm);
        x.append_child(field(
            "muc#maxhistoryfetch",
            "text-single",
            "Messages shown on join",
            &[&self.history_length.to_string()],
        ));
        x.append_child(boolean(
            "muc#roomconfig_enablelogging",
            "Archive messages",
            self.logging,
        ));
        x.append_child(boolean(
            "muc#roomconfig_getmemberlist",
            "Members may read the member list",
            self.members_can_list,
        ));
        x
    }

    /// Applies a submitted form (`type='submit'`) to a copy of `self`,
    /// validating each value against `service`. Fields absent from the
    /// form keep their values; unknown fields are ignored (XEP-0004 §3.2).
    /// The returned lists are JIDs named in `roomadmins`/`roomowners`.
    pub fn apply_form(
        &self,
        x: &Element,
        service: &ServiceConfig,
    ) -> Result<(RoomConfig, FormLists), MucError> {
        let mut c = self.clone();
        let mut lists = FormLists::default();
        let mut password_protected = None;
        for f in x.children().filter(|f| f.is("field", ns::DATA)) {
            let Some(var) = f.attr("var") else { continue };
            let values: Vec<String> = f
                .children()
                .filter(|v| v.is("value", ns::DATA))
                .map(|v| v.text())
                .collect();
            let first = values.first().map(String::as_str).unwrap_or("");
            let text = |s: &str| -> Result<String, MucError> {
                if s.len() > service.max_text_len {
                    Err(MucError::NotAcceptable("value too long"))
                } else {
                    Ok(s.to_owned())
                }
            };
            match var {
                "FORM_TYPE" if !first.is_empty() && first != ns::ROOMCONFIG => {
                    return Err(MucError::BadRequest("wrong FORM_TYPE"));
                }
                "muc#roomconfig_roomname" => c.name = text(first)?,
                "muc#roomconfig_roomdesc" => c.description = text(first)?,
                "muc#roomconfig_persistentroom" => c.persistent = parse_bool(first)?,
                "muc#roomconfig_publicroom" => c.public = parse_bool(first)?,
                "muc#roomconfig_membersonly" => c.members_only = parse_bool(first)?,
                "muc#roomconfig_moderatedroom" => c.moderated = parse_bool(first)?,
                "muc#roomconfig_passwordprotectedroom" => {
                    password_protected = Some(parse_bool(first)?)
                }
                "muc#roomconfig_roomsecret" => {
                    c.password = if first.is_empty() {
                        None
                    } else {
                        Some(text(first)?)
                    }
                }
                "muc#roomconfig_maxusers" => {
                    let n: usize = first
                        .parse()
                        .map_err(|_| MucError::NotAcceptable("maxusers is not a number"))?;
                    if n == 0 || n > service.max_occupants_limit {
                        return Err(MucError::NotAcceptable("maxusers out of range"));
                    }
                    c.max_occupants = n;
                }
                "muc#roomconfig_whois" => {
                    c.whois = match first {
                        "anyone" => Whois::Anyone,
                        "moderators" if service.allow_semi_anonymous => Whois::Moderators,
                        "moderators" => {
                            return Err(MucError::NotAcceptable("anonymous rooms are disabled"));
                        }
                        _ => return Err(MucError::NotAcceptable("unknown whois value")),
                    }
                }
                "muc#roomconfig_allowinvites" => c.allow_invites = parse_bool(first)?,
                "muc#roomconfig_changesubject" => c.change_subject = parse_bool(first)?,
                "muc#roomconfig_allowpm" => {
                    c.allow_pm = PmPolicy::parse(first)
                        .ok_or(MucError::NotAcceptable("unknown allowpm value"))?
                }
                "muc#maxhistoryfetch" | "muc#roomconfig_historylength" => {
                    let n: usize = first
                        .parse()
                        .map_err(|_| MucError::NotAcceptable("history length is not a number"))?;
                    if n > service.history_cap {
                        return Err(MucError::NotAcceptable("history length above the cap"));
                    }
                    if n != c.history_length && !service.owner_may_change_history {
                        return Err(MucError::NotAcceptable("history length is fixed"));
                    }
                    c.history_length = n;
                }
                "muc#roomconfig_enablelogging" => c.logging = parse_bool(first)?,
                "muc#roomconfig_getmemberlist" => c.members_can_list = parse_bool(first)?,
                "muc#roomconfig_roomadmins" | "muc#roomconfig_roomowners" => {
                    let mut jids = Vec::new();
                    for v in &values {
                        let j =
                            xmpp_core::Jid::new(v.trim()).map_err(|_| MucError::JidMalformed)?;
                        jids.push(j.bare());
                    }
                    if var.ends_with("admins") {
                        lists.admins = Some(jids);
                    } else {
                        lists.owners = Some(jids);
                    }
                }
                _ => {}
            }
        }
        if password_protected == Some(false) {
            c.password = None;
        } else if password_protected == Some(true) && c.password.is_none() {
            return Err(MucError::NotAcceptable(
                "password protection without a password",
            ));
        }
        Ok((c, lists))
    }
}

/// Affiliation lists carried by a configuration form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormLists {
    /// `muc#roomconfig_roomadmins`, when present.
    pub admins: Option<Vec<xmpp_core::Jid>>,
    /// `muc#roomconfig_roomowners`, when present.
    pub owners: Option<Vec<xmpp_core::Jid>>,
}

fn parse_bool(s: &str) -> Result<bool, MucError> {
    match s.trim() {
        "1" | "true" => Ok(true),
        "0" | "false" | "" => Ok(false),
        _ => Err(MucError::NotAcceptable("not a boolean")),
    }
}

fn option(v: &str) -> Element {
    Element::new("option", ns::DATA)
        .with_attr("label", v)
        .with_child(Element::new("value", ns::DATA).with_text(v))
}

pub(crate) fn hidden(var: &str, value: &str) -> Element {
    Element::new("field", ns::DATA)
        .with_attr("var", var)
        .with_attr("type", "hidden")
        .with_child(Element::new("value", ns::DATA).with_text(value))
}

pub(crate) fn field(var: &str, ty: &str, label: &str, values: &[&str]) -> Element {
    let mut f = Element::new("field", ns::DATA)
        .with_attr("var", var)
        .with_attr("type", ty)
        .with_attr("label", label);
    for v in values {
        f.append_child(Element::new("value", ns::DATA).with_text(v));
    }
    f
}

fn boolean(var: &str, label: &str, v: bool) -> Element {
    field(var, "boolean", label, &[if v { "1" } else { "0" }])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn submit(fields: &[(&str, &str)]) -> Element {
        let mut x = Element::new("x", ns::DATA).with_attr("type", "submit");
        x.append_child(hidden("FORM_TYPE", ns::ROOMCONFIG));
        for (var, v) in fields {
            x.append_child(
                Element::new("field", ns::DATA)
                    .with_attr("var", *var)
                    .with_child(Element::new("value", ns::DATA).with_text(v)),
            );
        }
        x
    }

    #[test]
    fn defaults_follow_requirements() {
        let s = ServiceConfig::default();
        let c = RoomConfig::defaults(&s);
        assert_eq!(s.max_rooms, 5500);
        assert_eq!(s.max_occupants_limit, 1000);
        assert_eq!(c.max_occupants, 50);
        assert_eq!(c.history_length, 15);
        assert_eq!(s.history_cap, 100);
        assert!(!c.members_only && !c.moderated && c.public);
        assert_eq!(c.whois, Whois::Anyone);
        assert_eq!(c.allow_pm, PmPolicy::Anyone);
        assert!(c.change_subject && !c.allow_invites);
    }

    #[test]
    fn form_round_trip_and_validation() {
        let s = ServiceConfig::default();
        let c = RoomConfig::defaults(&s);
        // The form carries the current values and applies to itself.
        let mut form = c.to_form(&s);
        form.set_attr("type", "submit");
        assert_eq!(c.apply_form(&form, &s).unwrap().0, c);

        let (n, lists) = c
            .apply_form(
                &submit(&[
                    ("muc#roomconfig_roomname", "Planning"),
                    ("muc#roomconfig_membersonly", "1"),
                    ("muc#roomconfig_persistentroom", "true"),
                    ("muc#roomconfig_passwordprotectedroom", "1"),
                    ("muc#roomconfig_roomsecret", "pw"),
                    ("muc#roomconfig_maxusers", "1000"),
                    ("muc#roomconfig_allowpm", "moderators"),
                    ("muc#roomconfig_roomadmins", "ed@example.org/x"),
                ]),
                &s,
            )
            .unwrap();
        assert_eq!(n.name, "Planning");
        assert!(n.members_only && n.persistent);
        assert_eq!(n.password.as_deref(), Some("pw"));
        assert_eq!(n.max_occupants, 1000);
        assert_eq!(n.allow_pm, PmPolicy::Moderators);
        assert_eq!(lists.admins.unwrap()[0].as_str(), "ed@example.org");

        for bad in [
            ("muc#roomconfig_maxusers", "1001"),
            ("muc#roomconfig_maxusers", "0"),
            ("muc#roomconfig_maxusers", "lots"),
            ("muc#roomconfig_whois", "moderators"),
            ("muc#maxhistoryfetch", "20"),
            ("muc#roomconfig_moderatedroom", "maybe"),
            ("muc#roomconfig_passwordprotectedroom", "1"),
        ] {
            assert!(c.apply_form(&submit(&[bad]), &s).is_err(), "{bad:?}");
        }
        let long = "x".repeat(s.max_text_len + 1);
        assert!(
            c.apply_form(&submit(&[("muc#roomconfig_roomname", &long)]), &s)
                .is_err()
        );
        let mut open = s.clone();
        open.owner_may_change_history = true;
        open.allow_semi_anonymous = true;
        let (n, _) = c
            .apply_form(
                &submit(&[
                    ("muc#maxhistoryfetch", "100"),
                    ("muc#roomconfig_whois", "moderators"),
                ]),
                &open,
            )
            .unwrap();
        assert_eq!(n.history_length, 100);
        assert_eq!(n.whois, Whois::Moderators);
        assert!(
            c.apply_form(&submit(&[("muc#maxhistoryfetch", "101")]), &open)
                .is_err()
        );
    }
}
