//! Roles, affiliations and the permission model of XEP-0045 §5: what each
//! role and affiliation may do (§5.1.1, §5.2.1) and who may change whose
//! role or affiliation (§5.1.2, §5.2.2, §8, §9, §10).

use crate::error::MucError;

/// A temporary, in-room position (XEP-0045 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Not in the room (used to express a kick).
    None,
    /// Present but without voice.
    Visitor,
    /// Present with voice.
    Participant,
    /// May kick, grant and revoke voice.
    Moderator,
}

impl Role {
    /// The protocol name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::None => "none",
            Role::Visitor => "visitor",
            Role::Participant => "participant",
            Role::Moderator => "moderator",
        }
    }

    /// Parses a protocol name.
    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "none" => Role::None,
            "visitor" => Role::Visitor,
            "participant" => Role::Participant,
            "moderator" => Role::Moderator,
            _ => return None,
        })
    }
}

/// A long-lived relation between a bare JID and a room (XEP-0045 §5.2).
/// Ordered by privilege: `Outcast < None < Member < Admin < Owner`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Affiliation {
    /// Banned.
    Outcast,
    /// No affiliation.
    None,
    /// Member: may enter members-only rooms, has voice in moderated rooms.
    Member,
    /// Administrator: edits the member and ban lists, is a moderator.
    Admin,
    /// Owner: configures and destroys the room, edits the admin and owner lists.
    Owner,
}

impl Affiliation {
    /// The protocol name.
    pub fn as_str(self) -> &'static str {
        match self {
            Affiliation::Outcast => "outcast",
            Affiliation::None => "none",
            Affiliation::Member => "member",
            Affiliation::Admin => "admin",
            Affiliation::Owner => "owner",
        }
    }

    /// Parses a protocol name.
    pub fn parse(s: &str) -> Option<Affiliation> {
        Some(match s {
            "outcast" => Affiliation::Outcast,
            "none" => Affiliation::None,
            "member" => Affiliation::Member,
            "admin" => Affiliation::Admin,
            "owner" => Affiliation::Owner,
            _ => return None,
        })
    }

    /// The role an occupant with this affiliation gets on entering
    /// (XEP-0045 §5.1.2): admins and owners moderate, members speak,
    /// others speak unless the room is moderated. `None` for outcasts.
    pub fn default_role(self, moderated: bool) -> Option<Role> {
        match self {
            Affiliation::Owner | Affiliation::Admin => Some(Role::Moderator),
            Affiliation::Member => Some(Role::Participant),
            Affiliation::None if moderated => Some(Role::Visitor),
            Affiliation::None => Some(Role::Participant),
            Affiliation::Outcast => None,
        }
    }
}

/// Who may send private messages (`muc#roomconfig_allowpm`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PmPolicy {
    /// Every occupant, visitors included.
    Anyone,
    /// Participants and moderators.
    Participants,
    /// Moderators only.
    Moderators,
    /// Nobody.
    Nobody,
}

impl PmPolicy {
    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            PmPolicy::Anyone => "anyone",
            PmPolicy::Participants => "participants",
            PmPolicy::Moderators => "moderators",
            PmPolicy::Nobody => "none",
        }
    }

    /// Parses a form value.
    pub fn parse(s: &str) -> Option<PmPolicy> {
        Some(match s {
            "anyone" => PmPolicy::Anyone,
            "participants" => PmPolicy::Participants,
            "moderators" => PmPolicy::Moderators,
            "none" => PmPolicy::Nobody,
            _ => return None,
        })
    }

    /// Whether an occupant with `role` may send a private message.
    pub fn allows(self, role: Role) -> bool {
        match self {
            PmPolicy::Anyone => role >= Role::Visitor,
            PmPolicy::Participants => role >= Role::Participant,
            PmPolicy::Moderators => role >= Role::Moderator,
            PmPolicy::Nobody => false,
        }
    }
}

/// Room settings that change what a role may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Moderated room: visitors are muted.
    pub moderated: bool,
    /// Members-only room.
    pub members_only: bool,
    /// `allowinvites`: in members-only rooms, participants may invite too.
    pub allow_invites: bool,
    /// `changesubject`: participants may change the subject.
    pub change_subject: bool,
    /// `allowpm`.
    pub allow_pm: PmPolicy,
}

/// An occupant action whose permission depends on role (XEP-0045 §5.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send a message to all occupants.
    SendGroupchat,
    /// Change the room subject.
    ChangeSubject,
    /// Send a private message to another occupant.
    SendPrivate,
    /// Invite another user.
    Invite,
    /// Kick a participant or visitor.
    Kick,
    /// Grant or revoke voice.
    ChangeVoice,
}

/// Whether an occupant with `role` may perform `action` under `policy`.
///
/// Visitors never speak to the room nor change the subject (the product
/// requirement "visitors never"); the minimum role to invite is
/// participant, raised to moderator in members-only rooms unless
/// `allow_invites`.
pub fn role_may(role: Role, action: Action, policy: &Policy) -> bool {
    match action {
        Action::SendGroupchat => role >= Role::Participant,
        Action::ChangeSubject => {
            role == Role::Moderator || (role == Role::Participant && policy.change_subject)
        }
        Action::SendPrivate => policy.allow_pm.allows(role),
        Action::Invite => {
            if policy.members_only && !policy.allow_invites {
                role == Role::Moderator
            } else {
                role >= Role::Participant
            }
        }
        Action::Kick | Action::ChangeVoice => role == Role::Moderator,
    }
}

/// Checks that an occupant (`actor_role`, `actor_aff`) may set the role of
/// a target (`target_aff`, `target_role`) to `new_role`
/// (XEP-0045 §8.2-§8.5, §9.6, §9.7): only moderators change roles; only
/// admins and owners grant or revoke moderator; nobody changes the role of
/// an admin or owner (they are moderators by affiliation, and cannot be
/// kicked).
pub fn check_role_change(
    actor_role: Role,
    actor_aff: Affiliation,
    target_aff: Affiliation,
    target_role: Role,
    new_role: Role,
) -> Result<(), MucError> {
    if actor_role != Role::Moderator {
        return Err(MucError::Forbidden("only moderators change roles"));
    }
    if target_aff >= Affiliation::Admin && new_role != Role::Moderator {
        return Err(MucError::NotAllowed(
            "admins and owners keep the moderator role",
        ));
    }
    if (new_role == Role::Moderator || target_role == Role::Moderator)
        && actor_aff < Affiliation::Admin
        && new_role != target_role
    {
        return Err(MucError::NotAllowed(
            "only admins and owners change the moderator role",
        ));
    }
    Ok(())
}

/// Checks that an actor with affiliation `actor_aff` may change a target's
/// affiliation from `target_aff` to `new_aff` (XEP-0045 §9, §10): admins
/// edit the member and ban lists for users below admin; owners edit every
/// list. `owners_after` is the number of owners the room would have; it
/// must stay at least one (`<conflict/>`).
pub fn check_affiliation_change(
    actor_aff: Affiliation,
    target_aff: Affiliation,
    new_aff: Affiliation,
    owners_after: usize,
) -> Result<(), MucError> {
    match actor_aff {
        Affiliation::Owner => {}
        Affiliation::Admin => {
            if target_aff >= Affiliation::Admin || new_aff >= Affiliation::Admin {
                return Err(MucError::NotAllowed(
                    "admins edit member and ban lists only",
                ));
            }
        }
        _ => {
            return Err(MucError::Forbidden(
                "only admins and owners change affiliations",
            ));
        }
    }
    if owners_after == 0 {
        return Err(MucError::Conflict("a room keeps at least one owner"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Affiliation as A;
    use Role as R;

    fn policy() -> Policy {
        Policy {
            moderated: false,
            members_only: false,
            allow_invites: false,
            change_subject: true,
            allow_pm: PmPolicy::Anyone,
        }
    }

    /// XEP-0045 §5.1.1 privileges table, as the product configures it by
    /// default (visitors may send private messages; participants may
    /// change the subject and invite in open rooms).
    #[test]
    fn role_privilege_table() {
        use Action::*;
        // (action, visitor, participant, moderator)
        let table = [
            (SendGroupchat, false, true, true),
            (ChangeSubject, false, true, true),
            (SendPrivate, true, true, true),
            (Invite, false, true, true),
            (Kick, false, false, true),
            (ChangeVoice, false, false, true),
        ];
        let p = policy();
        for (action, v, pa, m) in table {
            assert_eq!(role_may(R::Visitor, action, &p), v, "{action:?} visitor");
            assert_eq!(
                role_may(R::Participant, action, &p),
                pa,
                "{action:?} participant"
            );
            assert_eq!(
                role_may(R::Moderator, action, &p),
                m,
                "{action:?} moderator"
            );
            assert!(!role_may(R::None, action, &p), "{action:?} none");
        }
    }

    #[test]
    fn room_settings_change_privileges() {
        let mut p = policy();
        p.change_subject = false;
        assert!(!role_may(R::Participant, Action::ChangeSubject, &p));
        assert!(role_may(R::Moderator, Action::ChangeSubject, &p));
        p.members_only = true;
        assert!(!role_may(R::Participant, Action::Invite, &p));
        assert!(role_may(R::Moderator, Action::Invite, &p));
        p.allow_invites = true;
        assert!(role_may(R::Participant, Action::Invite, &p));
        for (pm, v, pa, m) in [
            (PmPolicy::Anyone, true, true, true),
            (PmPolicy::Participants, false, true, true),
            (PmPolicy::Moderators, false, false, true),
            (PmPolicy::Nobody, false, false, false),
        ] {
            p.allow_pm = pm;
            assert_eq!(role_may(R::Visitor, Action::SendPrivate, &p), v);
            assert_eq!(role_may(R::Participant, Action::SendPrivate, &p), pa);
            assert_eq!(role_may(R::Moderator, Action::SendPrivate, &p), m);
            assert_eq!(PmPolicy::parse(pm.as_str()), Some(pm));
        }
    }

    /// XEP-0045 §5.1.2: default roles by affiliation.
    #[test]
    fn default_roles() {
        for (aff, open, moderated) in [
            (A::Owner, Some(R::Moderator), Some(R::Moderator)),
            (A::Admin, Some(R::Moderator), Some(R::Moderator)),
            (A::Member, Some(R::Participant), Some(R::Participant)),
            (A::None, Some(R::Participant), Some(R::Visitor)),
            (A::Outcast, None, None),
        ] {
            assert_eq!(aff.default_role(false), open);
            assert_eq!(aff.default_role(true), moderated);
            assert_eq!(Affiliation::parse(aff.as_str()), Some(aff));
        }
        for r in [R::None, R::Visitor, R::Participant, R::Moderator] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }

    /// Role changes (XEP-0045 §8, §9.6-§9.7): every actor against every
    /// target and requested role.
    #[test]
    fn role_change_matrix() {
        // (actor role, actor aff, target aff, target role, new role, expected condition or "ok")
        let table: &[(R, A, A, R, R, &str)] = &[
            // kick (role none)
            (
                R::Moderator,
                A::None,
                A::None,
                R::Participant,
                R::None,
                "ok",
            ),
            (R::Moderator, A::None, A::Member, R::Visitor, R::None, "ok"),
            (
                R::Moderator,
                A::Admin,
                A::Admin,
                R::Moderator,
                R::None,
                "not-allowed",
            ),
            (
                R::Moderator,
                A::Owner,
                A::Admin,
                R::Moderator,
                R::None,
                "not-allowed",
            ),
            (
                R::Moderator,
                A::Admin,
                A::Owner,
                R::Moderator,
                R::None,
                "not-allowed",
            ),
            (
                R::Participant,
                A::Member,
                A::None,
                R::Participant,
                R::None,
                "forbidden",
            ),
            (
                R::Visitor,
                A::None,
                A::None,
                R::Participant,
                R::None,
                "forbidden",
            ),
            // voice
            (
                R::Moderator,
                A::None,
                A::None,
                R::Visitor,
                R::Participant,
                "ok",
            ),
            (
                R::Moderator,
                A::None,
                A::None,
                R::Participant,
                R::Visitor,
                "ok",
            ),
            (
                R::Moderator,
                A::Member,
                A::Member,
                R::Participant,
                R::Visitor,
                "ok",
            ),
            (
                R::Participant,
                A::None,
                A::None,
                R::Visitor,
                R::Participant,
                "forbidden",
            ),
            (
                R::Moderator,
                A::Admin,
                A::Owner,
                R::Moderator,
                R::Visitor,
                "not-allowed",
            ),
            // moderator role
            (
                R::Moderator,
                A::Admin,
                A::None,
                R::Participant,
                R::Moderator,
                "ok",
            ),
            (
                R::Moderator,
                A::Owner,
                A::Member,
                R::Participant,
                R::Moderator,
                "ok",
            ),
            (
                R::Moderator,
                A::None,
                A::None,
                R::Participant,
                R::Moderator,
                "not-allowed",
            ),
            (
                R::Moderator,
                A::Member,
                A::None,
                R::Moderator,
                R::Participant,
                "not-allowed",
            ),
            (
                R::Moderator,
                A::Admin,
                A::None,
                R::Moderator,
                R::Participant,
                "ok",
            ),
            (
                R::Moderator,
                A::Owner,
                A::Admin,
                R::Moderator,
                R::Participant,
                "not-allowed",
            ),
            // a moderator kicking another non-affiliated moderator needs admin
            (
                R::Moderator,
                A::None,
                A::None,
                R::Moderator,
                R::None,
                "not-allowed",
            ),
            (R::Moderator, A::Owner, A::None, R::Moderator, R::None, "ok"),
        ];
        for &(ar, aa, ta, tr, nr, want) in table {
            let got = match check_role_change(ar, aa, ta, tr, nr) {
                Ok(()) => "ok",
                Err(e) => e.condition(),
            };
            assert_eq!(got, want, "{ar:?}/{aa:?} sets {ta:?}/{tr:?} to {nr:?}");
        }
    }

    /// Affiliation changes (XEP-0045 §9.1-§9.5, §10.3-§10.7): the full
    /// actor x current x new matrix.
    #[test]
    fn affiliation_change_matrix() {
        let all = [A::Outcast, A::None, A::Member, A::Admin, A::Owner];
        for actor in all {
            for current in all {
                for new in all {
                    let got = check_affiliation_change(actor, current, new, 1);
                    let want = match actor {
                        A::Owner => Ok(()),
                        A::Admin if current < A::Admin && new < A::Admin => Ok(()),
                        A::Admin => Err("not-allowed"),
                        _ => Err("forbidden"),
                    };
                    assert_eq!(
                        got.map_err(|e| e.condition()),
                        want,
                        "{actor:?} changes {current:?} to {new:?}"
                    );
                }
            }
        }
        assert_eq!(
            check_affiliation_change(A::Owner, A::Owner, A::Admin, 0).map_err(|e| e.condition()),
            Err("conflict")
        );
    }
}
