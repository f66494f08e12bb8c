//! Tests of the engine alone: numbering across local days (DST included), every transition,
//! call-next under each priority policy, recall limits, transfers, estimates, day roll-over,
//! replay, and a property test over random command sequences.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use jiff::civil::{DateTime, date, time};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

use super::*;

fn tz() -> jiff::tz::TimeZone {
    jiff::tz::TimeZone::get("Europe/Warsaw").unwrap()
}

/// An instant given in Warsaw local time, e.g. "2026-11-24T09:00".
fn local(s: &str) -> Timestamp {
    let dt: DateTime = s.parse().unwrap();
    dt.to_zoned(tz()).unwrap().timestamp()
}

fn code(s: &str) -> CaseTypeCode {
    CaseTypeCode::parse(s).unwrap()
}
fn cid(n: u32) -> CounterId {
    CounterId::new(n).unwrap()
}
fn num(s: &str) -> TicketNumber {
    TicketNumber::parse(s).unwrap()
}
fn clerk(n: u32) -> Actor {
    Actor::User(format!("clerk{n}"))
}

/// An engine with a clock, driven like the service drives it: roll over, then execute.
struct H {
    e: Engine,
    now: Timestamp,
    log: Vec<Event>,
}

impl H {
    fn new(office: Office, now: &str) -> H {
        H {
            e: Engine::new(Arc::new(office)),
            now: local(now),
            log: Vec::new(),
        }
    }
    fn sample(now: &str) -> H {
        H::new(Office::sample(), now)
    }
    fn at(&mut self, now: &str) -> &mut Self {
        self.now = local(now);
        self
    }
    fn advance(&mut self, mins: i64) -> &mut Self {
        self.now = self
            .now
            .checked_add(SignedDuration::from_mins(mins))
            .unwrap();
        self
    }
    fn run(&mut self, cmd: Command, actor: &Actor) -> Result<Vec<Event>, DomainError> {
        let rolled = self.e.rollover(self.now);
        self.log.extend(rolled);
        let evs = self.e.execute(&cmd, actor, self.now)?;
        self.log.extend(evs.iter().cloned());
        self.e.check_invariants().unwrap();
        Ok(evs)
    }
    fn issue(&mut self, ct: &str) -> TicketNumber {
        self.try_issue(ct, None).unwrap()
    }
    fn issue_priority(&mut self, ct: &str) -> TicketNumber {
        self.try_issue(ct, Some("ciaza")).unwrap()
    }
    fn try_issue(&mut self, ct: &str, prio: Option<&str>) -> Result<TicketNumber, DomainError> {
        let evs = self.run(
            Command::IssueTicket {
                case_type: code(ct),
                priority: prio.map(|p| PriorityCode::parse(p).unwrap()),
                lang: Lang::Pl,
            },
            &Actor::Device("kiosk-1".into()),
        )?;
        match &evs.last().unwrap().kind {
            EventKind::TicketIssued { number, .. } => Ok(number.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    fn open(&mut self, c: u32) {
        self.run(
            Command::OpenCounter {
                counter: cid(c),
                operator: format!("clerk{c}"),
            },
            &clerk(c),
        )
        .unwrap();
    }
    fn at_counter(
        &mut self,
        c: u32,
        f: fn(CounterId) -> Command,
    ) -> Result<Vec<Event>, DomainError> {
        self.run(f(cid(c)), &clerk(c))
    }
    fn call(&mut self, c: u32) -> Result<TicketNumber, DomainError> {
        let evs = self.at_counter(c, |counter| Command::CallNext { counter })?;
        match &evs[0].kind {
            EventKind::TicketCalled { number, .. } => Ok(number.clone()),
            other => panic!("unexpected {other:?}"),
        }
    }
    /// Calls, starts and finishes the next ticket at a counter, `mins` minutes of service.
    fn serve(&mut self, c: u32, mins: i64) -> TicketNumber {
        let n = self.call(c).unwrap();
        self.at_counter(c, |counter| Command::StartService { counter })
            .unwrap();
        self.advance(mins);
        self.at_counter(c, |counter| Command::FinishService { counter })
            .unwrap();
        n
    }
    fn state(&self, n: &str) -> TicketState {
        self.e.find(&num(n)).unwrap().state
    }
    /// Replays the whole log into a fresh engine (as a restart does) and checks it matches.
    fn assert_replay_matches(&self) {
        let mut fresh = Engine::new(self.e.office().clone());
        let start = self
            .log
            .iter()
            .rposition(|e| matches!(e.kind, EventKind::DayStarted { .. }))
            .unwrap_or(0);
        for e in &self.log[start..] {
            fresh.apply(e);
        }
        assert_eq!(fresh.day(), self.e.day());
        assert_eq!(
            fresh.tickets().collect::<Vec<_>>(),
            self.e.tickets().collect::<Vec<_>>()
        );
        assert_eq!(
            fresh.counters().collect::<Vec<_>>(),
            self.e.counters().collect::<Vec<_>>()
        );
        assert_eq!(fresh.next_ticket_id(), self.e.next_ticket_id());
        for ct in &self.e.office().case_types {
            assert_eq!(fresh.last_seq(&ct.code), self.e.last_seq(&ct.code));
            assert_eq!(fresh.issued_today(&ct.code), self.e.issued_today(&ct.code));
        }
    }
}

fn night_office() -> Office {
    let mut o = Office::sample();
    o.issue_outside_hours = true;
    o
}

// ---------------------------------------------------------------- numbering

#[test]
fn numbers_run_per_case_type_from_001() {
    let mut h = H::sample("2026-11-24T09:00");
    assert_eq!(h.issue("dowody").to_string(), "A001");
    assert_eq!(h.issue("dowody").to_string(), "A002");
    assert_eq!(h.issue("meldunki").to_string(), "B001");
    assert_eq!(h.issue("dowody").to_string(), "A003");
}

#[test]
fn numbers_go_past_999_without_wrapping() {
    let mut h = H::new(night_office(), "2026-11-24T09:00");
    for _ in 0..999 {
        h.issue("pojazdy");
    }
    assert_eq!(h.e.last_seq(&code("pojazdy")), 999);
    assert_eq!(h.issue("pojazdy").to_string(), "C1000");
}

#[test]
fn numbering_restarts_at_local_midnight_not_utc_midnight() {
    let mut h = H::new(night_office(), "2026-11-24T23:59:59");
    assert_eq!(h.issue("dowody").to_string(), "A001");
    assert_eq!(h.issue("dowody").to_string(), "A002");
    // 00:00 in Warsaw is 23:00 UTC of the previous UTC day: a new local day all the same.
    h.at("2026-11-25T00:00:00");
    assert_eq!(h.issue("dowody").to_string(), "A001");
    assert_eq!(h.e.day(), Some(date(2026, 11, 25)));
    // 17:30 local in summer is 15:30 UTC, and 23:30 local is 21:30 UTC: still the same day
    // (a known peer bug broke numbering after 5 pm because it counted days in UTC).
    let mut s = H::new(night_office(), "2026-07-01T16:59");
    s.issue("dowody");
    s.at("2026-07-01T17:30");
    s.issue("dowody");
    s.at("2026-07-01T23:30");
    assert_eq!(s.issue("dowody").to_string(), "A003");
    h.assert_replay_matches();
}

#[test]
fn spring_dst_day_of_23_hours_is_one_day() {
    // 2026-03-29: clocks go from 02:00 to 03:00 in Warsaw.
    let mut h = H::new(night_office(), "2026-03-29T00:30");
    assert_eq!(h.issue("dowody").to_string(), "A001");
    h.now = "2026-03-29T01:30:00Z".parse().unwrap(); // 03:30 CEST, just after the jump
    assert_eq!(h.issue("dowody").to_string(), "A002");
    h.at("2026-03-29T23:59:59");
    assert_eq!(h.issue("dowody").to_string(), "A003");
    assert_eq!(h.e.day(), Some(date(2026, 3, 29)));
    // 22:00 UTC is midnight CEST: the next day.
    h.now = "2026-03-29T22:00:00Z".parse().unwrap();
    assert_eq!(h.issue("dowody").to_string(), "A001");
    assert_eq!(h.e.day(), Some(date(2026, 3, 30)));
}

#[test]
fn autumn_dst_day_of_25_hours_is_one_day() {
    // 2026-10-25: clocks go from 03:00 back to 02:00; 02:30 happens twice.
    let mut h = H::new(night_office(), "2026-10-25T00:10");
    assert_eq!(h.issue("dowody").to_string(), "A001");
    h.now = "2026-10-25T00:30:00Z".parse().unwrap(); // 02:30 CEST
    assert_eq!(h.issue("dowody").to_string(), "A002");
    h.now = "2026-10-25T01:30:00Z".parse().unwrap(); // 02:30 CET, the second time
    assert_eq!(h.issue("dowody").to_string(), "A003");
    h.now = "2026-10-25T22:59:59Z".parse().unwrap(); // 23:59:59 CET
    assert_eq!(h.issue("dowody").to_string(), "A004");
    assert_eq!(h.e.day(), Some(date(2026, 10, 25)));
    h.now = "2026-10-25T23:00:00Z".parse().unwrap(); // midnight CET
    assert_eq!(h.issue("dowody").to_string(), "A001");
    assert_eq!(h.e.day(), Some(date(2026, 10, 26)));
}

#[test]
fn a_clock_going_backwards_does_not_restart_the_day() {
    let mut h = H::new(night_office(), "2026-11-25T00:10");
    h.issue("dowody");
    h.at("2026-11-24T23:50");
    assert!(h.e.rollover(h.now).is_empty());
    // The day carries on: numbering continues, nothing restarts.
    assert_eq!(h.issue("dowody").to_string(), "A002");
    assert_eq!(h.e.day(), Some(date(2026, 11, 25)));
    h.at("2026-11-25T00:20");
    assert_eq!(h.issue("dowody").to_string(), "A003");
}

// ---------------------------------------------------------------- issuing rules

#[test]
fn issuing_follows_hours_caps_and_manager() {
    let mut h = H::sample("2026-11-24T07:59");
    let not_issuing = |h: &mut H| match h.try_issue("dowody", None) {
        Err(DomainError::NotIssuing { reason, .. }) => reason,
        other => panic!("expected refusal, got {other:?}"),
    };
    assert_eq!(not_issuing(&mut h), NotIssuingReason::NotYetOpen);
    h.at("2026-11-24T08:00");
    h.issue("dowody");
    // Closes at 16:00, stops issuing 15 minutes earlier.
    h.at("2026-11-24T15:44:59");
    h.issue("dowody");
    h.at("2026-11-24T15:45");
    assert_eq!(not_issuing(&mut h), NotIssuingReason::TooLate);
    // Saturday is closed.
    h.at("2026-11-28T10:00");
    assert_eq!(not_issuing(&mut h), NotIssuingReason::ClosedToday);

    let mut o = Office::sample();
    o.closed_dates.insert(date(2026, 12, 24));
    o.case_types[0].daily_cap = Some(2);
    let mut h = H::new(o, "2026-12-23T10:00");
    h.issue("dowody");
    h.issue("dowody");
    assert_eq!(not_issuing(&mut h), NotIssuingReason::DailyCapReached);
    let m = Actor::User("kierownik".into());
    h.run(
        Command::SetDailyCap {
            case_type: code("dowody"),
            cap: Some(3),
        },
        &m,
    )
    .unwrap();
    assert_eq!(h.issue("dowody").to_string(), "A003");
    h.run(
        Command::SetIssuing {
            case_type: code("meldunki"),
            open: false,
        },
        &m,
    )
    .unwrap();
    assert!(matches!(
        h.try_issue("meldunki", None),
        Err(DomainError::NotIssuing {
            reason: NotIssuingReason::StoppedByManager,
            ..
        })
    ));
    assert!(matches!(
        h.try_issue("nieznane", None),
        Err(DomainError::UnknownCaseType(_))
    ));
    assert!(matches!(
        h.try_issue("dowody", Some("vip")),
        Err(DomainError::UnknownPriority(_))
    ));
    // A closed date (Christmas Eve, a public holiday from 2025).
    h.at("2026-12-24T10:00");
    assert_eq!(not_issuing(&mut h), NotIssuingReason::ClosedToday);
    // The next working day the manager's overrides are gone: the configured cap applies again.
    h.at("2026-12-28T10:00");
    assert_eq!(h.issue("meldunki").to_string(), "B001");
    assert_eq!(h.e.daily_cap(&code("dowody")), Some(2));
}

// ---------------------------------------------------------------- transitions

/// Puts ticket A001 into `state` with counter 1 open, returning the harness.
fn ticket_in(state: TicketState) -> H {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.open(1);
    let c1 = |h: &mut H, f: fn(CounterId) -> Command| h.at_counter(1, f).unwrap();
    match state {
        TicketState::Waiting => {}
        TicketState::Called => {
            h.call(1).unwrap();
        }
        TicketState::Serving => {
            h.call(1).unwrap();
            c1(&mut h, |counter| Command::StartService { counter });
        }
        TicketState::Done => {
            h.serve(1, 5);
        }
        TicketState::NoShow => {
            h.call(1).unwrap();
            c1(&mut h, |counter| Command::MarkNoShow { counter });
        }
        TicketState::Parked => {
            h.call(1).unwrap();
            c1(&mut h, |counter| Command::Park { counter });
        }
        TicketState::Cancelled => {
            h.run(
                Command::Cancel {
                    number: num("A001"),
                    reason: "pomyłka".into(),
                },
                &Actor::User("kierownik".into()),
            )
            .unwrap();
        }
    }
    assert_eq!(h.state("A001"), state);
    h
}

const ALL_STATES: [TicketState; 7] = [
    TicketState::Waiting,
    TicketState::Called,
    TicketState::Serving,
    TicketState::Done,
    TicketState::NoShow,
    TicketState::Parked,
    TicketState::Cancelled,
];

#[test]
fn every_transition_is_legal_or_refused_with_a_reason() {
    use TicketState::*;
    type Action = (
        &'static str,
        fn() -> Command,
        &'static [TicketState],
        Option<TicketState>,
    );
    // (action, command, states it is legal from, resulting state)
    let actions: [Action; 8] = [
        (
            "recall",
            || Command::Recall { counter: cid(1) },
            &[Called],
            Some(Called),
        ),
        (
            "start",
            || Command::StartService { counter: cid(1) },
            &[Called],
            Some(Serving),
        ),
        (
            "finish",
            || Command::FinishService { counter: cid(1) },
            &[Serving],
            Some(Done),
        ),
        (
            "no-show",
            || Command::MarkNoShow { counter: cid(1) },
            &[Called],
            Some(NoShow),
        ),
        (
            "park",
            || Command::Park { counter: cid(1) },
            &[Called, Serving],
            Some(Parked),
        ),
        (
            "transfer",
            || Command::Transfer {
                counter: cid(1),
                to: TransferTarget::CaseType {
                    case_type: code("meldunki"),
                },
            },
            &[Called, Serving],
            Some(Waiting),
        ),
        (
            "call by number",
            || Command::CallTicket {
                counter: cid(1),
                number: num("A001"),
            },
            &[Waiting, Parked, NoShow],
            Some(Called),
        ),
        (
            "cancel",
            || Command::Cancel {
                number: num("A001"),
                reason: "wycofany".into(),
            },
            &[Waiting, Called, Serving, Parked],
            Some(Cancelled),
        ),
    ];
    for state in ALL_STATES {
        for (name, cmd, legal_from, result) in &actions {
            let mut h = ticket_in(state);
            let before = h.e.clone();
            let out = h.run(cmd(), &clerk(1));
            if legal_from.contains(&state) {
                assert!(out.is_ok(), "{name} from {state}: {out:?}");
                assert_eq!(h.state("A001"), result.unwrap(), "{name} from {state}");
            } else {
                let err = out.expect_err(&format!("{name} from {state} should be refused"));
                // A refusal says why: the ticket's state, or that the counter has no ticket
                // or is busy.
                assert!(
                    matches!(
                        err,
                        DomainError::IllegalTransition { .. }
                            | DomainError::NoCurrentTicket(_)
                            | DomainError::CounterBusy { .. }
                    ),
                    "{name} from {state}: {err:?}"
                );
                assert!(!err.to_string().is_empty());
                assert_eq!(
                    h.state("A001"),
                    state,
                    "{name} from {state} changed the state"
                );
                assert_eq!(
                    format!("{:?}", h.e.tickets().collect::<Vec<_>>()),
                    format!("{:?}", before.tickets().collect::<Vec<_>>())
                );
            }
            h.assert_replay_matches();
        }
    }
}

#[test]
fn illegal_transition_messages_name_ticket_state_and_action() {
    let mut h = ticket_in(TicketState::Called);
    let err = h
        .at_counter(1, |counter| Command::FinishService { counter })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "ticket A001 is called; cannot finish it before service has started"
    );
}

#[test]
fn counters_hold_one_ticket_and_one_clerk() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.issue("dowody");
    // Closed counters cannot call.
    assert!(matches!(h.call(1), Err(DomainError::CounterClosed(_))));
    h.open(1);
    // Another clerk cannot take or act at counter 1.
    let taken = h.run(
        Command::OpenCounter {
            counter: cid(1),
            operator: "clerk2".into(),
        },
        &clerk(2),
    );
    assert!(matches!(taken, Err(DomainError::CounterTaken { .. })));
    assert!(matches!(
        h.run(Command::CallNext { counter: cid(1) }, &clerk(2)),
        Err(DomainError::CounterTaken { .. })
    ));
    // Re-opening by the same clerk (a panel reconnecting) is a no-op, not an error.
    assert!(
        h.run(
            Command::OpenCounter {
                counter: cid(1),
                operator: "clerk1".into()
            },
            &clerk(1)
        )
        .unwrap()
        .is_empty()
    );
    // One clerk, one counter.
    assert!(
        h.run(
            Command::OpenCounter {
                counter: cid(2),
                operator: "clerk1".into()
            },
            &clerk(1)
        )
        .is_err()
    );
    h.call(1).unwrap();
    assert!(matches!(h.call(1), Err(DomainError::CounterBusy { .. })));
    assert!(matches!(
        h.at_counter(1, |counter| Command::CloseCounter { counter }),
        Err(DomainError::CounterBusy { .. })
    ));
    assert!(matches!(
        h.run(
            Command::PauseCounter {
                counter: cid(1),
                reason: "przerwa".into()
            },
            &clerk(1)
        ),
        Err(DomainError::CounterBusy { .. })
    ));
    h.at_counter(1, |counter| Command::StartService { counter })
        .unwrap();
    h.at_counter(1, |counter| Command::FinishService { counter })
        .unwrap();
    h.run(
        Command::PauseCounter {
            counter: cid(1),
            reason: "przerwa".into(),
        },
        &clerk(1),
    )
    .unwrap();
    assert!(matches!(h.call(1), Err(DomainError::CounterPaused(_))));
    assert!(matches!(
        h.run(
            Command::PauseCounter {
                counter: cid(1),
                reason: " ".into()
            },
            &clerk(1)
        ),
        Err(DomainError::CounterPaused(_))
    ));
    h.at_counter(1, |counter| Command::ResumeCounter { counter })
        .unwrap();
    assert!(matches!(
        h.at_counter(1, |counter| Command::ResumeCounter { counter }),
        Err(DomainError::CounterNotPaused(_))
    ));
    assert_eq!(h.call(1).unwrap().to_string(), "A002");
    assert!(matches!(
        h.run(Command::CallNext { counter: cid(9) }, &clerk(9)),
        Err(DomainError::UnknownCounter(_))
    ));
    h.assert_replay_matches();
}

#[test]
fn a_ticket_is_never_called_by_two_counters() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.open(1);
    h.open(2);
    h.call(1).unwrap();
    assert!(matches!(h.call(2), Err(DomainError::NothingToCall(_))));
    let by_number = h.run(
        Command::CallTicket {
            counter: cid(2),
            number: num("A001"),
        },
        &clerk(2),
    );
    assert!(matches!(
        by_number,
        Err(DomainError::IllegalTransition { .. })
    ));
}

// ---------------------------------------------------------------- call-next

#[test]
fn call_next_prefers_weight_then_longest_wait() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("meldunki"); // B001, oldest
    h.advance(1);
    h.issue("dowody"); // A001
    h.issue("dowody"); // A002
    h.open(1); // dowody 10, meldunki 1
    h.open(2); // meldunki 10, dowody 1
    h.open(3); // pojazdy only
    assert_eq!(h.call(1).unwrap().to_string(), "A001");
    assert_eq!(h.call(2).unwrap().to_string(), "B001");
    assert!(matches!(h.call(3), Err(DomainError::NothingToCall(_))));
    h.at_counter(2, |counter| Command::MarkNoShow { counter })
        .unwrap();
    // Counter 2 helps with ID cards when no registration waits.
    assert_eq!(h.call(2).unwrap().to_string(), "A002");
}

#[test]
fn ties_are_broken_by_ticket_id() {
    let mut h = H::sample("2026-11-24T09:00");
    // Same instant, same weight: the lower id goes first, every time.
    h.issue("dowody");
    h.issue("dowody");
    h.open(1);
    assert_eq!(h.call(1).unwrap().to_string(), "A001");
}

fn policy_harness(policy: PriorityPolicy) -> H {
    let mut o = Office::sample();
    o.priority_policy = policy;
    let mut h = H::new(o, "2026-11-24T09:00");
    // Five normal tickets, then two priority ones, a minute apart.
    for _ in 0..5 {
        h.issue("dowody");
        h.advance(1);
    }
    h.issue_priority("dowody"); // A006
    h.advance(1);
    h.issue_priority("dowody"); // A007
    h.open(1);
    h
}

fn call_order(h: &mut H, n: usize) -> Vec<String> {
    (0..n)
        .map(|_| {
            let t = h.call(1).unwrap();
            h.at_counter(1, |counter| Command::StartService { counter })
                .unwrap();
            h.at_counter(1, |counter| Command::FinishService { counter })
                .unwrap();
            t.to_string()
        })
        .collect()
}

#[test]
fn strict_policy_serves_priority_first() {
    let mut h = policy_harness(PriorityPolicy::Strict);
    assert_eq!(
        call_order(&mut h, 7),
        ["A006", "A007", "A001", "A002", "A003", "A004", "A005"]
    );
}

#[test]
fn interleave_policy_allows_n_normal_in_a_row() {
    let mut h = policy_harness(PriorityPolicy::Interleave {
        max_normal_in_row: 2,
    });
    // The counter has called nobody yet, so it may take two normal tickets first.
    assert_eq!(
        call_order(&mut h, 7),
        ["A001", "A002", "A006", "A003", "A004", "A007", "A005"]
    );
    // With zero allowed it is strict.
    let mut h = policy_harness(PriorityPolicy::Interleave {
        max_normal_in_row: 0,
    });
    assert_eq!(call_order(&mut h, 3), ["A006", "A007", "A001"]);
}

#[test]
fn interleave_streak_survives_a_restart() {
    let mut h = policy_harness(PriorityPolicy::Interleave {
        max_normal_in_row: 2,
    });
    call_order(&mut h, 2);
    h.assert_replay_matches();
    assert_eq!(h.e.counter(cid(1)).unwrap().normal_streak, 2);
}

#[test]
fn ageing_policy_moves_priority_forward_by_m_minutes() {
    // Normal tickets at 9:00..9:04, priority ones at 9:05 and 9:06. With 3 minutes of ageing
    // A006 counts as 9:02 and ties with A003; the lower ticket id (A003) wins the tie.
    // A007 counts as 9:03 and ties with A004, which wins the same way.
    let mut h = policy_harness(PriorityPolicy::Ageing { minutes: 3 });
    assert_eq!(
        call_order(&mut h, 7),
        ["A001", "A002", "A003", "A006", "A004", "A007", "A005"]
    );
    let mut h = policy_harness(PriorityPolicy::Ageing { minutes: 60 });
    assert_eq!(call_order(&mut h, 3), ["A006", "A007", "A001"]);
}

#[test]
fn priority_does_not_override_counter_weight_except_under_strict() {
    // Counter 1: dowody 10, meldunki 1. A priority meldunki ticket under ageing waits behind
    // normal dowody tickets at counter 1, but strict puts it first.
    for (policy, first) in [
        (PriorityPolicy::Ageing { minutes: 30 }, "A001"),
        (PriorityPolicy::Strict, "B001"),
    ] {
        let mut o = Office::sample();
        o.priority_policy = policy;
        let mut h = H::new(o, "2026-11-24T09:00");
        h.issue("dowody");
        h.issue_priority("meldunki");
        h.open(1);
        assert_eq!(h.call(1).unwrap().to_string(), first, "{policy:?}");
    }
}

// ---------------------------------------------------------------- recall, transfer, park

#[test]
fn recall_counts_calls_and_turns_into_no_show_past_the_limit() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.open(1);
    h.call(1).unwrap();
    for expected in [2, 3] {
        let evs = h
            .at_counter(1, |counter| Command::Recall { counter })
            .unwrap();
        assert!(
            matches!(evs[0].kind, EventKind::TicketRecalled { calls, .. } if calls == expected)
        );
    }
    // max_calls = 3: the fourth call is refused and the ticket becomes a no-show.
    let evs = h
        .at_counter(1, |counter| Command::Recall { counter })
        .unwrap();
    assert!(matches!(
        evs[0].kind,
        EventKind::TicketNoShow {
            reason: NoShowReason::CallLimit,
            ..
        }
    ));
    assert_eq!(h.state("A001"), TicketState::NoShow);
    assert!(h.e.counter(cid(1)).unwrap().current.is_none());
    // A late citizen can still be called back by number, with a fresh call count.
    h.run(
        Command::CallTicket {
            counter: cid(1),
            number: num("a1"),
        },
        &clerk(1),
    )
    .unwrap();
    assert_eq!(h.e.find(&num("A001")).unwrap().calls, 1);
    h.assert_replay_matches();
}

#[test]
fn transfer_to_a_case_type_keeps_number_and_place() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody"); // A001 at 9:00
    h.advance(5);
    h.issue("meldunki"); // B001 at 9:05
    h.open(1);
    h.open(2);
    h.call(1).unwrap();
    h.at_counter(1, |counter| Command::StartService { counter })
        .unwrap();
    h.run(
        Command::Transfer {
            counter: cid(1),
            to: TransferTarget::CaseType {
                case_type: code("meldunki"),
            },
        },
        &clerk(1),
    )
    .unwrap();
    let t = h.e.find(&num("A001")).unwrap();
    assert_eq!(t.case_type, code("meldunki"));
    assert_eq!(t.issued_case_type, code("dowody"));
    assert_eq!(t.state, TicketState::Waiting);
    assert_eq!(t.transfers, 1);
    // It keeps its 9:00 place: counter 2 calls it before B001.
    assert_eq!(h.call(2).unwrap().to_string(), "A001");
    // Transfer to where it already is is refused.
    assert!(matches!(
        h.run(
            Command::Transfer {
                counter: cid(2),
                to: TransferTarget::CaseType {
                    case_type: code("meldunki")
                }
            },
            &clerk(2)
        ),
        Err(DomainError::TransferToSelf(_))
    ));
    h.assert_replay_matches();
}

#[test]
fn transfer_to_a_counter_is_called_only_there_and_first() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody"); // A001
    h.issue("pojazdy"); // C001
    h.open(1);
    h.open(2);
    h.open(3);
    h.call(1).unwrap();
    h.run(
        Command::Transfer {
            counter: cid(1),
            to: TransferTarget::Counter { counter: cid(3) },
        },
        &clerk(1),
    )
    .unwrap();
    // Counter 2 also serves dowody but must not take a ticket sent to counter 3.
    assert!(matches!(h.call(2), Err(DomainError::NothingToCall(_))));
    // Counter 3 takes the transferred ticket before its own queue.
    assert_eq!(h.call(3).unwrap().to_string(), "A001");
    // Counter 1 serves no vehicle registration, so C001 is not for it.
    assert!(matches!(h.call(1), Err(DomainError::NothingToCall(_))));
    h.assert_replay_matches();
}

#[test]
fn parked_tickets_wait_for_a_call_by_number() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.issue("dowody");
    h.open(1);
    h.call(1).unwrap();
    h.at_counter(1, |counter| Command::Park { counter })
        .unwrap();
    // A parked ticket is not called by call-next.
    assert_eq!(h.call(1).unwrap().to_string(), "A002");
    h.at_counter(1, |counter| Command::MarkNoShow { counter })
        .unwrap();
    assert!(matches!(h.call(1), Err(DomainError::NothingToCall(_))));
    h.run(
        Command::CallTicket {
            counter: cid(1),
            number: num("A001"),
        },
        &clerk(1),
    )
    .unwrap();
    assert_eq!(h.state("A001"), TicketState::Called);
}

#[test]
fn manager_moves_a_counter_between_case_types() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.issue("pojazdy");
    h.open(3);
    h.run(
        Command::SetCounterServes {
            counter: cid(3),
            serves: vec![(code("dowody"), 5)],
        },
        &Actor::User("kierownik".into()),
    )
    .unwrap();
    assert_eq!(h.call(3).unwrap().to_string(), "A001");
    for bad in [
        vec![(code("dowody"), 0)],
        vec![(code("dowody"), 1), (code("dowody"), 2)],
        vec![(code("nieznane"), 1)],
    ] {
        assert!(
            h.run(
                Command::SetCounterServes {
                    counter: cid(3),
                    serves: bad
                },
                &Actor::User("kierownik".into())
            )
            .is_err()
        );
    }
    h.assert_replay_matches();
}

// ---------------------------------------------------------------- estimates

#[test]
fn estimated_wait_follows_the_documented_formula() {
    let mut h = H::sample("2026-11-24T09:00");
    let dowody = code("dowody");
    // No open counter for the case type: no estimate.
    assert_eq!(h.e.estimated_wait(&dowody, 3), None);
    h.open(1); // dowody 10 of 11
    // Default service time 10 min; n = 10/11; 3 ahead → 3 × 600 / (10/11) = 1980 s.
    assert_eq!(h.e.mean_service_secs(&dowody), 600.0);
    assert!((h.e.effective_counters(&dowody) - 10.0 / 11.0).abs() < 1e-9);
    assert_eq!(
        h.e.estimated_wait(&dowody, 3),
        Some(SignedDuration::from_secs(1980))
    );
    h.open(2); // dowody 1 of 11
    assert!((h.e.effective_counters(&dowody) - 1.0).abs() < 1e-9);
    // Measured services replace the default: 4 and 6 minutes → mean 300 s.
    h.issue("dowody");
    h.issue("dowody");
    h.serve(1, 4);
    h.serve(1, 6);
    assert_eq!(h.e.mean_service_secs(&dowody), 300.0);
    assert_eq!(
        h.e.estimated_wait(&dowody, 4),
        Some(SignedDuration::from_secs(1200))
    );
    assert_eq!(
        h.e.estimated_wait(&dowody, 0),
        Some(SignedDuration::from_secs(0))
    );
    // A paused counter does not count.
    h.run(
        Command::PauseCounter {
            counter: cid(2),
            reason: "przerwa".into(),
        },
        &clerk(2),
    )
    .unwrap();
    assert!((h.e.effective_counters(&dowody) - 10.0 / 11.0).abs() < 1e-9);
    // Only the last SERVICE_SAMPLE services count.
    for _ in 0..super::state::SERVICE_SAMPLE {
        h.issue("dowody");
        h.serve(1, 2);
    }
    assert_eq!(h.e.mean_service_secs(&dowody), 120.0);
}

#[test]
fn people_ahead_counts_earlier_and_priority_tickets() {
    let mut h = H::sample("2026-11-24T09:00");
    h.issue("dowody");
    h.advance(1);
    let second = h.issue("dowody");
    h.advance(1);
    let prio = h.issue_priority("dowody");
    h.issue("meldunki");
    h.advance(1);
    let prio2 = h.issue_priority("dowody");
    let ahead = |n: &TicketNumber| h.e.people_ahead(h.e.find(n).unwrap());
    // The second normal ticket has the first and both priority tickets ahead.
    assert_eq!(ahead(&second), 3);
    assert_eq!(ahead(&prio), 0);
    assert_eq!(ahead(&prio2), 1);
}

// ---------------------------------------------------------------- day roll-over

#[test]
fn end_of_day_cancels_open_tickets_and_closes_counters() {
    let mut h = H::sample("2026-11-24T15:00");
    h.issue("dowody");
    h.issue("dowody");
    h.open(1);
    h.call(1).unwrap();
    h.at("2026-11-25T08:30");
    let evs = h.e.rollover(h.now);
    h.log.extend(evs.iter().cloned());
    let cancelled = evs
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::TicketCancelled { reason, .. } if reason == "end of day"))
        .count();
    assert_eq!(cancelled, 2);
    assert!(evs.iter().all(|e| e.actor == Actor::System));
    assert!(matches!(
        evs.last().unwrap().kind,
        EventKind::DayStarted { .. }
    ));
    assert_eq!(h.e.tickets().count(), 0);
    assert!(
        h.e.counters()
            .all(|c| c.status == CounterStatus::Closed && c.current.is_none())
    );
    assert_eq!(h.issue("dowody").to_string(), "A001");
    h.assert_replay_matches();
}

#[test]
fn end_of_day_keep_carries_tickets_and_numbers_continue_after_them() {
    let mut o = Office::sample();
    o.end_of_day = EndOfDay::Keep;
    let mut h = H::new(o, "2026-11-24T15:00");
    h.issue("dowody");
    h.issue("dowody");
    h.issue("dowody");
    h.open(1);
    h.serve(1, 3); // A001 done
    h.call(1).unwrap(); // A002 called, stays open
    h.at("2026-11-25T09:00");
    assert_eq!(h.issue("dowody").to_string(), "A004");
    assert_eq!(h.state("A002"), TicketState::Waiting);
    assert_eq!(h.state("A003"), TicketState::Waiting);
    assert!(h.e.find(&num("A001")).is_none());
    h.assert_replay_matches();
}

#[test]
fn a_manager_closes_the_day() {
    let mut h = H::sample("2026-11-24T15:00");
    h.issue("dowody");
    h.issue("dowody");
    h.issue("meldunki");
    h.open(1);
    h.open(2);
    h.call(1).unwrap();
    let m = Actor::User("kierownik".into());
    // Not while someone is at a counter.
    assert!(matches!(
        h.run(Command::CloseDay, &m),
        Err(DomainError::CounterBusy { .. })
    ));
    h.at_counter(1, |counter| Command::StartService { counter })
        .unwrap();
    h.at_counter(1, |counter| Command::FinishService { counter })
        .unwrap();
    let evs = h.run(Command::CloseDay, &m).unwrap();
    assert!(evs.iter().all(|e| e.actor == m));
    assert_eq!(h.state("A001"), TicketState::Done);
    assert_eq!(h.state("A002"), TicketState::Cancelled);
    assert_eq!(h.state("B001"), TicketState::Cancelled);
    assert!(h.e.counters().all(|c| c.status == CounterStatus::Closed));
    assert!(matches!(
        h.try_issue("dowody", None),
        Err(DomainError::NotIssuing {
            reason: NotIssuingReason::StoppedByManager,
            ..
        })
    ));
    // Closing again changes nothing; the next day issues as usual.
    assert!(h.run(Command::CloseDay, &m).unwrap().is_empty());
    h.assert_replay_matches();
    h.at("2026-11-25T09:00");
    assert_eq!(h.issue("dowody").to_string(), "A001");

    // With the keep policy the waiting tickets stay for tomorrow.
    let mut o = Office::sample();
    o.end_of_day = EndOfDay::Keep;
    let mut k = H::new(o, "2026-11-24T15:00");
    k.issue("dowody");
    k.run(Command::CloseDay, &m).unwrap();
    assert_eq!(k.state("A001"), TicketState::Waiting);
    k.at("2026-11-25T09:00");
    assert_eq!(k.issue("dowody").to_string(), "A002");
}

// ---------------------------------------------------------------- properties

#[derive(Debug, Clone)]
enum Op {
    Issue(usize, bool),
    Open(u32),
    Close(u32),
    Pause(u32),
    Resume(u32),
    CallNext(u32),
    CallNumber(u32, u32),
    Recall(u32),
    Start(u32),
    Finish(u32),
    NoShow(u32),
    Park(u32),
    TransferCase(u32, usize),
    TransferCounter(u32, u32),
    Cancel(u32),
    CloseDay,
    Wait(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let c = 1u32..=3;
    prop_oneof![
        4 => (0usize..3, any::<bool>()).prop_map(|(t, p)| Op::Issue(t, p)),
        1 => c.clone().prop_map(Op::Open),
        1 => c.clone().prop_map(Op::Close),
        1 => c.clone().prop_map(Op::Pause),
        1 => c.clone().prop_map(Op::Resume),
        4 => c.clone().prop_map(Op::CallNext),
        1 => (c.clone(), 1u32..8).prop_map(|(c, n)| Op::CallNumber(c, n)),
        1 => c.clone().prop_map(Op::Recall),
        2 => c.clone().prop_map(Op::Start),
        2 => c.clone().prop_map(Op::Finish),
        1 => c.clone().prop_map(Op::NoShow),
        1 => c.clone().prop_map(Op::Park),
        1 => (c.clone(), 0usize..3).prop_map(|(c, t)| Op::TransferCase(c, t)),
        1 => (c.clone(), 1u32..=3).prop_map(|(c, t)| Op::TransferCounter(c, t)),
        1 => (1u32..8).prop_map(Op::Cancel),
        1 => Just(Op::CloseDay),
        2 => (1i64..400).prop_map(Op::Wait),
    ]
}

fn policy() -> impl Strategy<Value = PriorityPolicy> {
    prop_oneof![
        Just(PriorityPolicy::Strict),
        (0u32..4).prop_map(|n| PriorityPolicy::Interleave {
            max_normal_in_row: n
        }),
        (0u32..30).prop_map(|m| PriorityPolicy::Ageing { minutes: m }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Random command sequences over several days: after every step no number is used twice
    /// in a day, no ticket is at two counters, no counter holds two tickets, every ticket is
    /// in exactly one state (checked by `check_invariants`); a refused command changes
    /// nothing; replaying the log from the last day start rebuilds the same state.
    #[test]
    fn random_commands_keep_the_invariants(
        ops in proptest::collection::vec(op(), 1..150),
        policy in policy(),
        keep in any::<bool>(),
    ) {
        let mut o = night_office();
        o.priority_policy = policy;
        o.end_of_day = if keep { EndOfDay::Keep } else { EndOfDay::Cancel };
        let mut h = H::new(o, "2026-03-28T20:00");
        let types = ["dowody", "meldunki", "pojazdy"];
        let mut issued_per_day: std::collections::BTreeMap<jiff::civil::Date, std::collections::BTreeSet<String>> = Default::default();
        for op in ops {
            let before = h.e.clone();
            let cmd = match op {
                Op::Wait(mins) => { h.advance(mins); continue; }
                Op::Issue(t, p) => Command::IssueTicket {
                    case_type: code(types[t]),
                    priority: p.then(|| PriorityCode::parse("ciaza").unwrap()),
                    lang: Lang::Uk,
                },
                Op::Open(c) => Command::OpenCounter { counter: cid(c), operator: format!("clerk{c}") },
                Op::Close(c) => Command::CloseCounter { counter: cid(c) },
                Op::Pause(c) => Command::PauseCounter { counter: cid(c), reason: "przerwa".into() },
                Op::Resume(c) => Command::ResumeCounter { counter: cid(c) },
                Op::CallNext(c) => Command::CallNext { counter: cid(c) },
                Op::CallNumber(c, n) => Command::CallTicket { counter: cid(c), number: num(&format!("A{n:03}")) },
                Op::Recall(c) => Command::Recall { counter: cid(c) },
                Op::Start(c) => Command::StartService { counter: cid(c) },
                Op::Finish(c) => Command::FinishService { counter: cid(c) },
                Op::NoShow(c) => Command::MarkNoShow { counter: cid(c) },
                Op::Park(c) => Command::Park { counter: cid(c) },
                Op::TransferCase(c, t) => Command::Transfer { counter: cid(c), to: TransferTarget::CaseType { case_type: code(types[t]) } },
                Op::TransferCounter(c, t) => Command::Transfer { counter: cid(c), to: TransferTarget::Counter { counter: cid(t) } },
                Op::Cancel(n) => Command::Cancel { number: num(&format!("B{n:03}")), reason: "test".into() },
                Op::CloseDay => Command::CloseDay,
            };
            let actor = match &cmd {
                Command::IssueTicket { .. } => Actor::Device("kiosk".into()),
                Command::Cancel { .. } | Command::CloseDay => Actor::User("kierownik".into()),
                Command::CloseCounter { counter } | Command::OpenCounter { counter, .. } => clerk(u32::from(counter.get())),
                Command::CallNext { counter } | Command::CallTicket { counter, .. } | Command::Recall { counter }
                | Command::StartService { counter } | Command::FinishService { counter } | Command::MarkNoShow { counter }
                | Command::Park { counter } | Command::Transfer { counter, .. } | Command::PauseCounter { counter, .. }
                | Command::ResumeCounter { counter } => clerk(u32::from(counter.get())),
                _ => Actor::System,
            };
            let rolled = h.e.rollover(h.now);
            let rolled_any = !rolled.is_empty();
            h.log.extend(rolled);
            let before_cmd = if rolled_any { h.e.clone() } else { before };
            match h.e.execute(&cmd, &actor, h.now) {
                Ok(evs) => {
                    for e in &evs {
                        if let EventKind::TicketIssued { number, .. } = &e.kind {
                            let day = h.e.day().unwrap();
                            prop_assert!(issued_per_day.entry(day).or_default().insert(number.to_string()),
                                "{} issued twice on {}", number, day);
                        }
                    }
                    h.log.extend(evs);
                }
                Err(_) => {
                    prop_assert_eq!(format!("{:?}", h.e.tickets().collect::<Vec<_>>()),
                        format!("{:?}", before_cmd.tickets().collect::<Vec<_>>()));
                    prop_assert_eq!(format!("{:?}", h.e.counters().collect::<Vec<_>>()),
                        format!("{:?}", before_cmd.counters().collect::<Vec<_>>()));
                }
            }
            if let Err(broken) = h.e.check_invariants() {
                prop_assert!(false, "invariant broken: {}", broken);
            }
        }
        h.assert_replay_matches();
    }
}

#[test]
fn local_times_in_tests_mean_warsaw() {
    // A guard for the helpers above: 09:00 in Warsaw in November is 08:00 UTC.
    assert_eq!(
        local("2026-11-24T09:00").to_string(),
        "2026-11-24T08:00:00Z"
    );
    assert_eq!(date(2026, 11, 24).at(9, 0, 0, 0).time(), time(9, 0, 0, 0));
}
