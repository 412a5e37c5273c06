//! The HTTP face's log writer: lines reach stderr in batches written by a thread of their own,
//! so a tool call pays for a copy into memory instead of a write to a pipe and the wake-up of
//! whatever reads it (6% of a call's CPU when every line was its own write).

use std::{
    io::Write,
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    thread::JoinHandle,
    time::Duration,
};

/// How long the first line of a batch waits for others before the batch is written.
const BATCH_WINDOW: Duration = Duration::from_millis(5);

/// Bytes waiting to be written past which a writer waits for the thread (as it would have waited
/// for a full pipe): the log never drops a line and never grows without bound.
const MAX_PENDING: usize = 1 << 20;

/// What waits to be written, and who waits for whom: each wake-up is a system call, so it is
/// made only when someone sleeps.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closed: bool,
    /// The thread sleeps until a line comes.
    thread_idle: bool,
    /// Writers sleeping until the thread takes a batch.
    writers_blocked: usize,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when a batch starts or the writer closes.
    filled: Condvar,
    /// Signalled when the thread took a batch.
    drained: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// One handle on the batch, for the logger to write each event into.
#[derive(Clone)]
pub struct Batched(Arc<Shared>);

impl Write for Batched {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.0.lock();
        while pending.bytes.len() >= MAX_PENDING && !pending.closed {
            pending.writers_blocked += 1;
            pending = self.0.drained.wait(pending).unwrap_or_else(PoisonError::into_inner);
            pending.writers_blocked -= 1;
        }
        let wake = pending.thread_idle && pending.bytes.is_empty();
        pending.bytes.extend_from_slice(buf);
        drop(pending);
        if wake {
            self.0.filled.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes what is left and stops the thread when dropped: keep it until the process is done
/// logging.
pub struct Flush {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Flush {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.filled.notify_one();
        self.shared.drained.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A batching writer in front of `out`, and the guard that flushes it.
pub fn batched<W: Write + Send + 'static>(mut out: W) -> std::io::Result<(Batched, Flush)> {
    let shared = Arc::new(Shared::default());
    let inner = shared.clone();
    let thread = std::thread::Builder::new().name("log".into()).spawn(move || {
        loop {
            let mut pending = inner.lock();
            while pending.bytes.is_empty() && !pending.closed {
                pending.thread_idle = true;
                pending = inner.filled.wait(pending).unwrap_or_else(PoisonError::into_inner);
                pending.thread_idle = false;
            }
            if pending.bytes.is_empty() {
                return;
            }
            if !pending.closed {
                // Lines that come meanwhile join this batch: one write (and one wake-up of the
                // reader) for all of them.
                drop(pending);
                std::thread::sleep(BATCH_WINDOW);
                pending = inner.lock();
            }
            let batch = std::mem::take(&mut pending.bytes);
            let blocked = pending.writers_blocked > 0;
            drop(pending);
            if blocked {
                inner.drained.notify_all();
            }
            // Nowhere to report a failing stderr; the next batch tries again.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
        }
    })?;
    Ok((Batched(shared.clone()), Flush { shared, thread: Some(thread) }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("sink").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_arrives_whole_and_in_order_per_writer_by_the_flush() {
        let sink = Sink::default();
        let (writer, flush) = batched(sink.clone()).expect("log thread");
        let threads: Vec<_> = (0..4)
            .map(|t| {
                let mut w = writer.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        w.write_all(format!("thread {t} line {i:03}\n").as_bytes()).expect("write");
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().expect("writer thread"));
        drop(flush);
        let text = String::from_utf8(sink.0.lock().expect("sink").clone()).expect("utf-8");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2000);
        for t in 0..4 {
            let mine: Vec<&str> = lines.iter().copied().filter(|l| l.starts_with(&format!("thread {t} "))).collect();
            let expected: Vec<String> = (0..500).map(|i| format!("thread {t} line {i:03}")).collect();
            assert_eq!(mine, expected);
        }
    }

    #[test]
    fn a_writer_past_the_bound_waits_for_the_thread_instead_of_dropping() {
        let sink = Sink::default();
        let (mut writer, flush) = batched(sink.clone()).expect("log thread");
        let line = vec![b'x'; MAX_PENDING / 4];
        for _ in 0..12 {
            writer.write_all(&line).expect("write");
        }
        drop(flush);
        assert_eq!(sink.0.lock().expect("sink").len(), 12 * line.len());
    }
}
