//! A shuttle schedule read back from a file, which a person may have edited or cut short: decoded
//! only when shuttle's decoder can read it whole (it panics, or asks for all the memory there is,
//! on a schedule cut short or a length that lies), and replayed by a scheduler that ends the run
//! where the schedule does not fit it, instead of panicking inside shuttle's execution, which
//! prints to stderr whatever catches the panic.

use shuttle::scheduler::{Schedule, Scheduler, Task, TaskId};
use shuttle_engine::scheduler::data::random::RandomDataSource;
use shuttle_engine::scheduler::data::DataSource;
use shuttle_engine::scheduler::serialization;
use shuttle_engine::scheduler::ScheduleStep;
use std::sync::{Arc, Mutex};

/// The first byte of shuttle's encoding (its format version 2).
const MAGIC: u8 = 0x91;

/// `text` decoded, when it is shuttle's encoding of a whole schedule.
pub(crate) fn decode(text: &str) -> Option<Schedule> {
    readable(text).then(|| serialization::deserialize_schedule(text.trim()))?
}

/// Whether shuttle's decoder reads `text` without panicking: hex digits (whitespace aside), its
/// magic byte, three varints (the task id's width in bits, the number of steps, the seed), then
/// the steps, each a bit (1: a random value; 0: a task id of that width follows), every one of
/// them within the bytes given.
fn readable(text: &str) -> bool {
    let digits: Vec<u8> = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_digit(16).map_or(u8::MAX, |digit| digit as u8))
        .collect();
    if !digits.len().is_multiple_of(2) || digits.contains(&u8::MAX) {
        return false;
    }
    let bytes: Vec<u8> = digits
        .chunks(2)
        .map(|pair| pair[0] << 4 | pair[1])
        .collect();
    let Some((&MAGIC, mut rest)) = bytes.split_first() else {
        return false;
    };
    let (Some(width), Some(steps), Some(_seed)) =
        (varint(&mut rest), varint(&mut rest), varint(&mut rest))
    else {
        return false;
    };
    if !(1..=u64::from(usize::BITS)).contains(&width) {
        return false;
    }
    let bits = rest.len() as u64 * 8;
    let bit = |at: u64| rest[(at / 8) as usize] >> (at % 8) & 1 == 1;
    let mut at = 0;
    for _ in 0..steps {
        if at >= bits {
            return false;
        }
        at += if bit(at) { 1 } else { 1 + width };
        if at > bits {
            return false;
        }
    }
    true
}

/// A varint as shuttle writes it (7 bits a byte, lowest first), taken off the front of `bytes`.
fn varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// Replays a schedule, as shuttle's replay scheduler does when a schedule may end before the run
/// does; a decision the run asks for that the schedule does not hold (another task, or a random
/// value where the schedule switched tasks) ends the run and is noted in `misfit`.
pub(crate) struct Replaying {
    steps: Vec<ScheduleStep>,
    next: usize,
    started: bool,
    data: RandomDataSource,
    misfit: Arc<Mutex<Option<String>>>,
}

impl Replaying {
    /// A scheduler replaying `schedule`, noting in `misfit` where it does not fit the run.
    pub(crate) fn new(schedule: Schedule, misfit: Arc<Mutex<Option<String>>>) -> Replaying {
        Replaying {
            data: RandomDataSource::initialize(schedule.seed),
            steps: schedule.steps,
            next: 0,
            started: false,
            misfit,
        }
    }

    fn misfits(&mut self, why: String) {
        let mut misfit = self.misfit.lock().unwrap_or_else(|e| e.into_inner());
        misfit.get_or_insert(format!("step {} of the schedule {why}", self.next + 1));
        // Nothing after a misfit is replayed.
        self.next = self.steps.len();
    }
}

impl Scheduler for Replaying {
    fn new_execution(&mut self) -> Option<Schedule> {
        if self.started {
            return None;
        }
        self.started = true;
        Some(Schedule::new(self.data.reinitialize()))
    }

    fn next_task(
        &mut self,
        runnable: &[&Task],
        _current: Option<TaskId>,
        _is_yielding: bool,
    ) -> Option<TaskId> {
        match self.steps.get(self.next) {
            // The run winds down after the schedule was captured: it ends here.
            None => None,
            Some(ScheduleStep::Task(task)) if runnable.iter().any(|t| t.id() == *task) => {
                self.next += 1;
                Some(*task)
            }
            Some(ScheduleStep::Task(task)) => {
                let task = usize::from(*task);
                self.misfits(format!("runs task {task}, which cannot run there"));
                None
            }
            Some(ScheduleStep::Random) => {
                self.misfits("is a random value where the run switches tasks".to_string());
                None
            }
        }
    }

    fn next_u64(&mut self) -> u64 {
        match self.steps.get(self.next) {
            Some(ScheduleStep::Random) => self.next += 1,
            Some(ScheduleStep::Task(_)) => {
                self.misfits("switches tasks where the run asks for a random value".to_string())
            }
            None => {}
        }
        self.data.next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_schedules_are_decoded() {
        let mut schedule = Schedule::new(42);
        for task in [0, 1, 1, 0] {
            schedule.push_task(TaskId::from(task));
        }
        schedule.push_random();
        let text = serialization::serialize_schedule(&schedule);
        assert_eq!(decode(&text), Some(schedule));
        // Every cut and every edit of the length decodes or is refused, without a panic.
        for end in 0..text.len() {
            let _ = decode(&text[..end]);
        }
        assert_eq!(decode(""), None);
        assert_eq!(decode("91"), None);
        // Width 0, 2^64 − 1 steps, seed 0: no bits follow.
        assert_eq!(decode("9100ffffffffffffffffff0100"), None);
        assert_eq!(decode("9140ffffffffffffffffff0100ff"), None);
        assert_eq!(decode("+1"), None);
    }
}
