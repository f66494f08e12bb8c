//! The print queue against real sockets: TCP listeners on 127.0.0.1 stand in for network
//! printers that work, refuse connections, hang up mid-ticket, never read, or report paper out;
//! plus the virtual printer and device files. In every case the job ends printed or failed with
//! a reason a person can act on, the printer's state says what is wrong, and a healthy printer
//! keeps printing meanwhile.
//!
//! Timeouts and retry delays are short, so that the whole file runs in a few seconds.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kolejka::engine::{Lang, TicketNumber};
use kolejka::print::status::reply_for;
use kolejka::print::{
    DeviceKind, DeviceStatus, DeviceTransport, FirstAttempt, JobStatus, PrinterCondition, Printers,
    Profile, QueueSettings, TcpTimeouts, TcpTransport, TicketPrint, VirtualPrinter,
    builtin_profile, render,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket};

fn settings() -> QueueSettings {
    QueueSettings {
        retry_delays: vec![Duration::from_millis(50), Duration::from_millis(100)],
        capacity: 8,
        keep_finished: 100,
    }
}

fn timeouts() -> TcpTimeouts {
    TcpTimeouts {
        connect: Duration::from_millis(500),
        write: Duration::from_millis(300),
        job: Duration::from_millis(600),
        status: Duration::from_millis(300),
        close: Duration::from_millis(300),
    }
}

fn profile(id: &str) -> Profile {
    builtin_profile(id).expect("built-in profile")
}

fn ticket(number: &str) -> TicketPrint {
    TicketPrint {
        office_name: "Urząd Miasta Żółkiewka".into(),
        case_type_name: "Rejestracja pojazdów".into(),
        number: TicketNumber::parse(number).expect("number"),
        people_ahead: 3,
        estimated_wait_min: Some(12),
        issued_at_local: "2026-03-02 08:15".into(),
        documents: "Dowód osobisty\nDowód rejestracyjny".into(),
        qr_url: Some(format!("https://kolejka.example.pl/t/{number}")),
        footer: "Dziękujemy!".into(),
        lang: Lang::Pl,
    }
}

/// A ticket of about 5 MB: more than the kernel buffers between two sockets hold (about 2 MB
/// on loopback here, as Linux sizes the send buffer up to 4 MB), so that a printer that stops
/// reading makes the write wait.
fn huge_ticket(number: &str) -> TicketPrint {
    TicketPrint {
        documents: "Zaświadczenie ".repeat(350_000),
        ..ticket(number)
    }
}

fn tcp(addr: &str) -> Arc<TcpTransport> {
    Arc::new(TcpTransport::new(addr, timeouts()).expect("address"))
}

/// A printer that reads every connection to its end and keeps what it got, per connection.
async fn reading_printer() -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut all = Vec::new();
                let _ = socket.read_to_end(&mut all).await;
                store.lock().expect("lock").push(all);
            });
        }
    });
    (addr, received)
}

/// An address where nothing listens.
async fn refusing_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    drop(listener);
    addr
}

/// A printer that reads the first bytes of each ticket and hangs up.
async fn hanging_up_printer() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut first = [0u8; 64];
                let _ = socket.read_exact(&mut first).await;
                // Dropping the socket with unread data resets the connection.
            });
        }
    });
    addr
}

/// A printer that accepts connections and never reads from them (a small receive buffer, so
/// that the sender's writes stall soon).
async fn never_reading_printer() -> String {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_recv_buffer_size(4096).expect("buffer size");
    socket
        .bind("127.0.0.1:0".parse().expect("addr"))
        .expect("bind");
    let addr = socket.local_addr().expect("addr").to_string();
    let listener = socket.listen(16).expect("listen");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    addr
}

/// How a status-reporting fake printer answers `DLE EOT n`.
#[derive(Clone, Copy)]
enum Answer {
    As(DeviceStatus),
    Silent,
    Garbage,
}

/// A printer that reads everything and answers status requests; keeps what it received.
async fn status_printer(answer: Answer) -> (String, Arc<Mutex<Vec<Vec<u8>>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = Arc::clone(&received);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut all = Vec::new();
                let mut scanned = 0;
                let mut buf = [0u8; 4096];
                loop {
                    let n = match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    all.extend_from_slice(&buf[..n]);
                    while scanned + 3 <= all.len() {
                        if all[scanned..scanned + 2] == [0x10, 0x04] {
                            let reply = match answer {
                                Answer::As(status) => Some(reply_for(status, all[scanned + 2])),
                                Answer::Silent => None,
                                Answer::Garbage => Some(b'A'),
                            };
                            if let Some(byte) = reply {
                                let _ = socket.write_all(&[byte]).await;
                            }
                            scanned += 3;
                        } else {
                            scanned += 1;
                        }
                    }
                }
                store.lock().expect("lock").push(all);
            });
        }
    });
    (addr, received)
}

async fn finished(printers: &Printers, id: kolejka::print::JobId) -> JobStatus {
    printers
        .wait_finished(id, Duration::from_secs(8))
        .await
        .expect("known job")
        .expect("the job ends")
}

fn failed_reason(status: &JobStatus) -> &str {
    match status {
        JobStatus::Failed { reason, attempts } => {
            assert_eq!(*attempts, 3, "every attempt was made");
            reason
        }
        other => panic!("expected a failed job, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reading_printer_receives_exactly_the_rendered_bytes() {
    let (addr, received) = reading_printer().await;
    let printers = Printers::new(settings());
    printers
        .add("hall", profile("generic-80mm"), tcp(&addr))
        .expect("added");
    // The host name is resolved by us (escpos' driver would want an IP address).
    let port = addr.rsplit_once(':').expect("port").1;
    printers
        .add(
            "by-name",
            profile("generic-80mm"),
            tcp(&format!("localhost:{port}")),
        )
        .expect("added");

    let t = ticket("A001");
    let id = printers.submit("hall", t.clone()).expect("queued");
    let first = printers
        .wait_first_attempt(id, Duration::from_secs(3))
        .await
        .expect("known job");
    assert_eq!(first, Some(FirstAttempt::Printed));
    assert_eq!(
        finished(&printers, id).await,
        JobStatus::Printed { attempts: 1 }
    );
    let by_name = printers.submit("by-name", ticket("A002")).expect("queued");
    assert_eq!(
        finished(&printers, by_name).await,
        JobStatus::Printed { attempts: 1 }
    );

    // The fake stores a connection's bytes when it ends, right after our side closes.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 2, "one connection per job");
    assert_eq!(got[0], render(&profile("generic-80mm"), &t));

    let state = printers.state("hall").expect("state");
    assert_eq!(state.condition, PrinterCondition::Ok);
    assert!(state.last_ok_at.is_some());
    assert_eq!(state.last_error, None);
    assert_eq!(state.transport, format!("tcp {addr}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_printers_fail_clearly_while_a_healthy_one_keeps_printing() {
    let printers = Printers::new(settings());
    let mut events = printers.subscribe();
    let refused = refusing_address().await;
    let hanging_up = hanging_up_printer().await;
    let never_reading = never_reading_printer().await;
    let (paper_out, _) = status_printer(Answer::As(DeviceStatus::PaperOut)).await;
    let (healthy, received) = reading_printer().await;
    printers
        .add("refused", profile("generic-80mm"), tcp(&refused))
        .expect("added");
    printers
        .add("hanging-up", profile("generic-80mm"), tcp(&hanging_up))
        .expect("added");
    printers
        .add(
            "never-reading",
            profile("generic-80mm"),
            tcp(&never_reading),
        )
        .expect("added");
    printers
        .add("paper-out", profile("epson-tm-t88"), tcp(&paper_out))
        .expect("added");
    printers
        .add("healthy", profile("star-escpos"), tcp(&healthy))
        .expect("added");

    let started = Instant::now();
    let refused_job = printers.submit("refused", ticket("B001")).expect("queued");
    let hanging_up_job = printers
        .submit("hanging-up", huge_ticket("B002"))
        .expect("queued");
    let never_reading_job = printers
        .submit("never-reading", huge_ticket("B003"))
        .expect("queued");
    let paper_out_job = printers
        .submit("paper-out", ticket("B004"))
        .expect("queued");

    // The healthy printer prints three tickets while the others fail and retry.
    let mut healthy_jobs = Vec::new();
    for n in 1..=3 {
        healthy_jobs.push(
            printers
                .submit("healthy", ticket(&format!("C{n:03}")))
                .expect("queued"),
        );
    }
    for id in healthy_jobs {
        assert_eq!(
            finished(&printers, id).await,
            JobStatus::Printed { attempts: 1 }
        );
    }
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the healthy printer waited for the others: {:?}",
        started.elapsed()
    );
    assert!(
        !printers
            .job_status(never_reading_job)
            .expect("known")
            .is_final(),
        "the stalled printer is still retrying"
    );

    // The kiosk learns of the first failure quickly, while retries go on.
    let first = printers
        .wait_first_attempt(refused_job, Duration::from_secs(2))
        .await
        .expect("known");
    match first {
        Some(FirstAttempt::Failed { reason, retrying }) => {
            assert!(retrying);
            assert!(
                reason.starts_with(&format!("cannot connect to the printer at {refused}")),
                "{reason}"
            );
        }
        other => panic!("expected a failed first attempt, got {other:?}"),
    }

    let reason = failed_reason(&finished(&printers, refused_job).await).to_owned();
    assert!(reason.contains("cannot connect"), "{reason}");
    let reason = failed_reason(&finished(&printers, hanging_up_job).await).to_owned();
    assert!(
        reason.starts_with("the connection to the printer broke after")
            || reason == "the printer closed the connection before it had read the whole ticket",
        "{reason}"
    );
    let reason = failed_reason(&finished(&printers, never_reading_job).await).to_owned();
    // Either no byte was taken for 300 ms, or the whole ticket was not in within 600 ms.
    assert!(
        (reason.starts_with("the printer stopped taking data:") && reason.ends_with("300 ms"))
            || (reason.starts_with("the printer took only") && reason.ends_with("600 ms")),
        "{reason}"
    );
    let reason = failed_reason(&finished(&printers, paper_out_job).await).to_owned();
    assert_eq!(reason, "the printer reports paper out");

    let states = printers.states();
    let condition = |name: &str| {
        states
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.condition.clone())
            .expect("state")
    };
    assert!(matches!(
        condition("refused"),
        PrinterCondition::Offline { .. }
    ));
    assert!(matches!(
        condition("hanging-up"),
        PrinterCondition::Error { .. }
    ));
    assert!(matches!(
        condition("never-reading"),
        PrinterCondition::Error { .. }
    ));
    assert_eq!(condition("paper-out"), PrinterCondition::PaperOut);
    assert_eq!(condition("healthy"), PrinterCondition::Ok);
    for s in &states {
        assert_eq!(s.queued, 0, "{}", s.name);
        if s.name != "healthy" {
            assert!(s.last_error.is_some() && s.last_ok_at.is_none(), "{s:?}");
        }
    }
    assert_eq!(received.lock().expect("lock").len(), 3);

    // Every change of condition was broadcast.
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push((event.state.name.clone(), event.state.condition));
    }
    assert!(
        seen.contains(&("paper-out".into(), PrinterCondition::PaperOut)),
        "{seen:?}"
    );
    assert!(
        seen.contains(&("healthy".into(), PrinterCondition::Ok)),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|(n, c)| n == "refused" && matches!(c, PrinterCondition::Offline { .. })),
        "{seen:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_replies_are_read_before_and_after_the_ticket() {
    let printers = Printers::new(settings());
    let (near_end, received) = status_printer(Answer::As(DeviceStatus::PaperNearEnd)).await;
    let (silent, silent_received) = status_printer(Answer::Silent).await;
    let (garbage, _) = status_printer(Answer::Garbage).await;
    let epson = profile("epson-tm-t88");
    printers
        .add("near-end", epson.clone(), tcp(&near_end))
        .expect("added");
    printers
        .add("silent", epson.clone(), tcp(&silent))
        .expect("added");
    printers
        .add("garbage", epson.clone(), tcp(&garbage))
        .expect("added");

    let t = ticket("D001");
    let near_end_job = printers.submit("near-end", t.clone()).expect("queued");
    let silent_job = printers.submit("silent", t.clone()).expect("queued");
    let garbage_job = printers.submit("garbage", t.clone()).expect("queued");

    // Paper near end still prints, and the manager is told.
    assert_eq!(
        finished(&printers, near_end_job).await,
        JobStatus::Printed { attempts: 1 }
    );
    assert_eq!(
        printers.state("near-end").expect("state").condition,
        PrinterCondition::PaperNearEnd
    );
    // A printer that does not answer is not an error: the ticket prints, status unknown.
    assert_eq!(
        finished(&printers, silent_job).await,
        JobStatus::Printed { attempts: 1 }
    );
    assert_eq!(
        printers.state("silent").expect("state").condition,
        PrinterCondition::Ok
    );
    // A reply that is not a status byte is an error that says what came.
    let reason = failed_reason(&finished(&printers, garbage_job).await).to_owned();
    assert_eq!(
        reason,
        "the printer answered 0x41 to DLE EOT 1, which is not a status byte (expected the bit \
         pattern 0xx1xx10)"
    );
    assert!(matches!(
        printers.state("garbage").expect("state").condition,
        PrinterCondition::Error { .. }
    ));

    tokio::time::sleep(Duration::from_millis(100)).await;
    let requests: &[u8] = &[0x10, 4, 1, 0x10, 4, 2, 0x10, 4, 4];
    let rendered = render(&epson, &t);
    let got = received.lock().expect("lock").clone();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0], [requests, &rendered, requests].concat());
    // The silent printer was asked once, got the ticket, and was not asked again.
    let got = silent_received.lock().expect("lock").clone();
    assert_eq!(got[0], [&[0x10, 4, 1][..], &rendered].concat());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_virtual_printer_saves_bytes_text_and_a_picture_per_job() {
    let dir = tempfile::tempdir().expect("temp dir");
    let printers = Printers::new(settings());
    let virtual_printer = Arc::new(VirtualPrinter::new(dir.path().join("tickets")));
    printers
        .add("virtual", profile("generic-58mm"), virtual_printer)
        .expect("added");
    let t = ticket("A012");
    let first = printers.submit("virtual", t.clone()).expect("queued");
    let reprint = printers.submit("virtual", t.clone()).expect("queued");
    assert_eq!(
        finished(&printers, first).await,
        JobStatus::Printed { attempts: 1 }
    );
    assert_eq!(
        finished(&printers, reprint).await,
        JobStatus::Printed { attempts: 1 }
    );

    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("tickets"))
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 6, "{names:?}");
    let bins: Vec<&String> = names.iter().filter(|n| n.ends_with(".bin")).collect();
    assert_eq!(bins.len(), 2, "a reprint gets its own files: {names:?}");
    for bin in bins {
        assert!(bin.contains("-A012"), "{bin}");
        let path = dir.path().join("tickets").join(bin);
        let bytes = std::fs::read(&path).expect("bin");
        assert_eq!(bytes, render(&profile("generic-58mm"), &t));
        let text = std::fs::read_to_string(path.with_extension("txt")).expect("txt");
        assert!(text.contains("A012"), "{text}");
        assert!(text.contains("Rejestracja pojazdów"), "{text}");
        let png = std::fs::read(path.with_extension("png")).expect("png");
        assert!(png.starts_with(b"\x89PNG"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_files_are_written_and_missing_or_stuck_devices_fail_clearly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let printers = Printers::new(settings());

    // A file stands in for /dev/usb/lp0: the bytes arrive as rendered.
    let lp = dir.path().join("lp0");
    std::fs::write(&lp, b"").expect("device file");
    printers
        .add(
            "usb",
            profile("generic-80mm"),
            Arc::new(DeviceTransport::new(
                &lp,
                DeviceKind::Usb,
                Duration::from_millis(500),
            )),
        )
        .expect("added");
    let t = ticket("E001");
    let id = printers.submit("usb", t.clone()).expect("queued");
    assert_eq!(
        finished(&printers, id).await,
        JobStatus::Printed { attempts: 1 }
    );
    assert_eq!(
        std::fs::read(&lp).expect("written"),
        render(&profile("generic-80mm"), &t)
    );

    // A serial device that is not there: offline, with the path and the system's reason.
    let missing = dir.path().join("ttyUSB9");
    printers
        .add(
            "serial",
            profile("generic-58mm"),
            Arc::new(DeviceTransport::new(
                &missing,
                DeviceKind::Serial,
                Duration::from_millis(500),
            )),
        )
        .expect("added");
    let id = printers.submit("serial", ticket("E002")).expect("queued");
    let reason = failed_reason(&finished(&printers, id).await).to_owned();
    assert!(
        reason.starts_with(&format!("cannot open {}", missing.display())),
        "{reason}"
    );
    assert!(matches!(
        printers.state("serial").expect("state").condition,
        PrinterCondition::Offline { .. }
    ));

    // A device whose open never returns (a FIFO nobody reads): the attempt times out and the
    // next ones fail at once as busy, instead of piling up threads.
    let fifo = dir.path().join("stuck");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if made {
        printers
            .add(
                "stuck",
                profile("generic-80mm"),
                Arc::new(DeviceTransport::new(
                    &fifo,
                    DeviceKind::Usb,
                    Duration::from_millis(200),
                )),
            )
            .expect("added");
        let id = printers.submit("stuck", ticket("E003")).expect("queued");
        let first = printers
            .wait_first_attempt(id, Duration::from_secs(2))
            .await
            .expect("known");
        assert!(
            matches!(&first, Some(FirstAttempt::Failed { reason, .. }) if reason.contains("did not take the ticket within 200 ms")),
            "{first:?}"
        );
        let reason = failed_reason(&finished(&printers, id).await).to_owned();
        assert!(
            reason.contains("still busy with an earlier ticket"),
            "{reason}"
        );
        // Open the reading end (without waiting for a writer: O_NONBLOCK is 0o4000 on Linux)
        // and close it again, so that the stuck writer's open returns and its thread ends.
        use std::os::unix::fs::OpenOptionsExt;
        let reader = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(0o4000)
            .open(&fifo);
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(reader);
    }
}
