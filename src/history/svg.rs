//! A history as an SVG picture: one lane per worker, each request a bar from its invocation to
//! its completion coloured by outcome (an unknown one runs to the right edge), the requests of a
//! violation or of an unorderable set highlighted, and one user's teams over time as a monitor
//! sampled them.
//!
//! Bars are `<rect class="call OUTCOME">` with `id="call-ID"`, highlighted ones also carry the
//! class `highlighted`; lanes are `<g class="lane" data-worker="N">`; the membership is
//! `<g class="membership" data-user="NAME">` with one `<rect class="span">` per sample.

use super::{Call, History, Ticks};
use joincheck_models::domain::{TeamId, UserId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// Left of the time axis: the lanes' names.
const LEFT: f64 = 130.0;
/// The time axis' width.
const AXIS: f64 = 840.0;
/// Height of one lane.
const LANE: f64 = 26.0;
/// Height of a bar.
const BAR: f64 = 14.0;
/// Above the first lane: the title and the axis.
const TOP: f64 = 56.0;

/// What to draw.
///
/// ```
/// use joincheck::history::svg::SvgOptions;
///
/// let options = SvgOptions::default().title("sue's requests").highlighted(vec![0, 1]);
/// assert_eq!(options.highlighted, [0, 1]);
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct SvgOptions {
    /// The picture's title.
    pub title: String,
    /// The ids of the requests to draw; every request when none.
    pub calls: Option<Vec<usize>>,
    /// The ids of the requests to highlight: a violation's, or a set that cannot be ordered.
    pub highlighted: Vec<usize>,
    /// One user's teams over time, drawn under the lanes.
    pub membership: Option<Membership>,
}

impl SvgOptions {
    /// Titles the picture.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// Draws only the requests `calls`.
    pub fn calls(mut self, calls: Vec<usize>) -> Self {
        self.calls = Some(calls);
        self
    }

    /// Highlights the requests `highlighted`.
    pub fn highlighted(mut self, highlighted: Vec<usize>) -> Self {
        self.highlighted = highlighted;
        self
    }

    /// Draws `membership` under the lanes.
    pub fn membership(mut self, membership: Membership) -> Self {
        self.membership = Some(membership);
        self
    }
}

/// A user's teams over time: each sample `(time, teams)` holds until the next one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    /// The user.
    pub user: UserId,
    /// The samples, in any order.
    pub samples: Vec<(Ticks, Vec<TeamId>)>,
}

/// `history` as an SVG document; `describe` gives each bar's tooltip.
pub fn svg<I, A, R>(
    history: &History<I, A, R>,
    options: &SvgOptions,
    describe: impl Fn(&Call<I, A, R>) -> String,
) -> String {
    let ids: Vec<usize> = match &options.calls {
        Some(ids) => ids
            .iter()
            .copied()
            .filter(|&id| id < history.len())
            .collect(),
        None => (0..history.len()).collect(),
    };
    let calls: Vec<(usize, &Call<I, A, R>)> =
        ids.iter().map(|&id| (id, &history.calls()[id])).collect();
    let mut samples = options
        .membership
        .as_ref()
        .map_or(Vec::new(), |m| m.samples.clone());
    samples.sort();
    let instants = calls
        .iter()
        .flat_map(|(_, call)| [Some(call.invoked), call.completed])
        .flatten()
        .chain(samples.iter().map(|(time, _)| *time));
    let (start, end) = instants.fold((Ticks::MAX, 0), |(lo, hi), t| (lo.min(t), hi.max(t)));
    let (start, end) = if start > end { (0, 0) } else { (start, end) };
    let x = |tick: Ticks| LEFT + (tick - start) as f64 * AXIS / (end - start).max(1) as f64;

    let workers: BTreeSet<u32> = calls.iter().map(|(_, call)| call.worker).collect();
    let lane_of: BTreeMap<u32, usize> = workers.iter().enumerate().map(|(i, w)| (*w, i)).collect();
    let lanes_height = workers.len() as f64 * LANE;
    let membership_height = if options.membership.is_some() {
        LANE + 10.0
    } else {
        0.0
    };
    let height = TOP + lanes_height + membership_height + 40.0;
    let width = LEFT + AXIS + 30.0;
    let highlighted: BTreeSet<usize> = options.highlighted.iter().copied().collect();

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">"#
    );
    out += "<style>.ok{fill:#66bb6a}.refused{fill:#ffca28}.error{fill:#ef9a9a}\
.unknown{fill:#b0bec5;fill-opacity:0.6}.highlighted{stroke:#b71c1c;stroke-width:3}\
.span{fill:#90caf9}.span.none{fill:#eeeeee}.span.several{fill:#c62828}\
.axis line{stroke:#555}</style>\n";
    let _ = writeln!(
        out,
        r#"<text class="title" x="10" y="18" font-size="14">{}</text>"#,
        escape(&options.title)
    );
    out += &axis(
        start,
        end,
        TOP - 14.0,
        TOP + lanes_height + membership_height,
    );

    for worker in &workers {
        let y = TOP + lane_of[worker] as f64 * LANE;
        let _ = writeln!(out, r#"<g class="lane" data-worker="{worker}">"#);
        let _ = writeln!(
            out,
            r#"<text x="10" y="{}">worker {worker}</text>"#,
            y + BAR - 2.0
        );
        for (id, call) in calls.iter().filter(|(_, call)| call.worker == *worker) {
            let from = x(call.invoked);
            let to = call.completed.map_or(LEFT + AXIS + 20.0, x);
            let mut class = format!("call {}", call.outcome.kind());
            if highlighted.contains(id) {
                class += " highlighted";
            }
            let completed = call
                .completed
                .map_or("no answer".to_string(), |t| t.to_string());
            let _ = writeln!(
                out,
                r#"<rect class="{class}" id="call-{id}" x="{from:.1}" y="{y}" width="{:.1}" height="{BAR}"><title>#{id} {} ({}–{completed})</title></rect>"#,
                (to - from).max(2.0),
                escape(&describe(call)),
                call.invoked,
            );
        }
        out += "</g>\n";
    }

    if let Some(membership) = &options.membership {
        let y = TOP + lanes_height + 10.0;
        let _ = writeln!(
            out,
            r#"<g class="membership" data-user="{}">"#,
            escape(&membership.user.to_string())
        );
        let _ = writeln!(
            out,
            r#"<text x="10" y="{}">{}'s teams</text>"#,
            y + BAR - 2.0,
            escape(&membership.user.to_string())
        );
        for (index, (time, teams)) in samples.iter().enumerate() {
            let until = samples.get(index + 1).map_or(end, |(next, _)| *next);
            let names: Vec<String> = teams.iter().map(ToString::to_string).collect();
            let (class, words) = match teams.len() {
                0 => ("span none", "no team".to_string()),
                1 => ("span", names.join(", ")),
                _ => ("span several", names.join(", ")),
            };
            let (from, to) = (x(*time), x(until));
            let _ = writeln!(
                out,
                r#"<rect class="{class}" x="{from:.1}" y="{y}" width="{:.1}" height="{BAR}"><title>{} from {time}</title></rect>"#,
                (to - from).max(2.0),
                escape(&words)
            );
            let _ = writeln!(
                out,
                r#"<text x="{:.1}" y="{}" font-size="10">{}</text>"#,
                from + 2.0,
                y + BAR - 3.0,
                escape(&words)
            );
        }
        out += "</g>\n";
    }

    out += &legend(height - 16.0);
    out += "</svg>\n";
    out
}

/// The time axis: a line with five labelled ticks, and faint lines down through the lanes.
fn axis(start: Ticks, end: Ticks, y: f64, bottom: f64) -> String {
    let mut out = String::from("<g class=\"axis\">\n");
    let _ = writeln!(
        out,
        r#"<line x1="{LEFT}" y1="{y}" x2="{}" y2="{y}"/>"#,
        LEFT + AXIS
    );
    for step in 0..=4u64 {
        let tick = start + (end - start) * step / 4;
        let x = LEFT + AXIS * step as f64 / 4.0;
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="{y}" x2="{x}" y2="{bottom}" stroke-opacity="0.15"/><text x="{x}" y="{}" text-anchor="middle">{tick}</text>"#,
            y - 4.0
        );
    }
    out + "</g>\n"
}

/// What each colour means.
fn legend(y: f64) -> String {
    let mut out = String::from("<g class=\"legend\">\n");
    let entries = [
        ("ok", "ok"),
        ("refused", "refused"),
        ("error", "error"),
        ("unknown", "unknown"),
        ("ok highlighted", "cannot be ordered / violation"),
    ];
    let mut x = LEFT;
    for (class, words) in entries {
        let _ = writeln!(
            out,
            r#"<rect class="{class} key" x="{x}" y="{y}" width="14" height="10"/><text x="{}" y="{}">{words}</text>"#,
            x + 18.0,
            y + 9.0
        );
        x += 40.0 + 8.0 * words.len() as f64;
    }
    out + "</g>\n"
}

/// `text` with XML's special characters escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
