//! The SVG timeline renders: an XML parser reads it back, and its lanes, bars, highlighted
//! requests and membership are where they should be.

use joincheck::history::join::{JoinHistory, JoinRequest};
use joincheck::history::svg::{svg, Membership, SvgOptions};
use joincheck::history::{Call, Outcome};
use joincheck::linearizability::join::JoinSpec;
use joincheck::linearizability::{check, Options, Specification};
use joincheck::models::domain::{JoinError, Request, TeamId, UserId};

const SUE: UserId = UserId(0);
const A: TeamId = TeamId(0);
const B: TeamId = TeamId(1);

/// The article's race, then a refusal, a request whose answer was lost and one that failed.
fn history() -> JoinHistory {
    let join = |team| JoinRequest(Request::Join { user: SUE, team });
    let mut history = JoinHistory::new();
    let calls = [
        Call::new(0, join(A), 0, 80, Outcome::Ok(())),
        Call::new(1, join(B), 30, 120, Outcome::Ok(())),
        Call::new(
            2,
            join(A),
            100,
            140,
            Outcome::from(Err(JoinError::AlreadyOnTeam { team: B })),
        ),
        Call::unknown(3, join(B), 110),
        Call::new(
            0,
            join(A),
            150,
            160,
            Outcome::Error("connection reset".to_string()),
        ),
    ];
    for call in calls {
        history.push(call).unwrap();
    }
    history
}

#[test]
fn the_timeline_has_a_lane_per_worker_a_bar_per_request_and_the_users_membership() {
    let history = history();
    let spec = JoinSpec::new();
    let verdict = check(&spec, &history, &Options::default());
    let unorderable = verdict.unorderable().expect("the race");
    let membership = Membership {
        user: SUE,
        samples: vec![(90, vec![A, B]), (0, vec![]), (50, vec![A]), (130, vec![B])],
    };
    let options = SvgOptions::default()
        .title("sue: <the race> & after")
        .highlighted(unorderable.calls.clone())
        .membership(membership);
    let text = svg(&history, &options, |call| spec.describe_call(call));
    let document = roxmltree::Document::parse(&text).expect("well-formed XML");
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(
        root.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );

    let with_class = |class: &str| -> Vec<roxmltree::Node> {
        root.descendants()
            .filter(|node| {
                node.attribute("class")
                    .is_some_and(|c| c.split(' ').any(|w| w == class))
            })
            .collect()
    };
    let lanes: Vec<&str> = with_class("lane")
        .iter()
        .map(|g| g.attribute("data-worker").unwrap())
        .collect();
    assert_eq!(lanes, ["0", "1", "2", "3"]);
    let bars: Vec<(&str, &str)> = with_class("call")
        .iter()
        .map(|rect| {
            (
                rect.attribute("id").unwrap(),
                rect.attribute("class").unwrap(),
            )
        })
        .collect();
    assert_eq!(
        bars,
        [
            ("call-0", "call ok highlighted"),
            ("call-4", "call error"),
            ("call-1", "call ok highlighted"),
            ("call-2", "call refused"),
            ("call-3", "call unknown"),
        ]
    );
    // Each bar sits in its worker's lane.
    for (lane, worker_bars) in with_class("lane").iter().zip([
        vec!["call-0", "call-4"],
        vec!["call-1"],
        vec!["call-2"],
        vec!["call-3"],
    ]) {
        let ids: Vec<&str> = lane.children().filter_map(|n| n.attribute("id")).collect();
        assert_eq!(ids, worker_bars);
    }
    // Time runs left to right over 0..160 on 840 pixels from x = 130; the unknown runs off the end.
    let geometry = |id: &str| {
        let rect = root
            .descendants()
            .find(|n| n.attribute("id") == Some(id))
            .unwrap();
        let number = |name| rect.attribute(name).unwrap().parse::<f64>().unwrap();
        (number("x"), number("width"))
    };
    assert_eq!(geometry("call-0"), (130.0, 420.0));
    assert_eq!(geometry("call-1"), (287.5, 472.5));
    assert_eq!(geometry("call-3"), (707.5, 282.5));
    let tooltip = root
        .descendants()
        .find(|n| n.attribute("id") == Some("call-2"))
        .and_then(|rect| rect.first_element_child())
        .and_then(|title| title.text());
    assert_eq!(
        tooltip,
        Some("#2 join sue → team-A: refused, already on a team (team-B) (100–140)")
    );

    let membership = with_class("membership");
    assert_eq!(membership[0].attribute("data-user"), Some("sue"));
    let spans: Vec<(&str, Option<&str>)> = with_class("span")
        .iter()
        .map(|rect| {
            (
                rect.attribute("class").unwrap(),
                rect.first_element_child().and_then(|t| t.text()),
            )
        })
        .collect();
    assert_eq!(
        spans,
        [
            ("span none", Some("no team from 0")),
            ("span", Some("team-A from 50")),
            ("span several", Some("team-A, team-B from 90")),
            ("span", Some("team-B from 130")),
        ]
    );
    let title = with_class("title")[0].text();
    assert_eq!(title, Some("sue: <the race> & after"));
}

#[test]
fn only_the_requests_asked_for_are_drawn() {
    let history = history();
    let text = svg(
        &history,
        &SvgOptions::default().calls(vec![2, 3, 9]),
        |_| String::new(),
    );
    let document = roxmltree::Document::parse(&text).unwrap();
    let ids: Vec<&str> = document
        .descendants()
        .filter_map(|n| n.attribute("id"))
        .collect();
    assert_eq!(ids, ["call-2", "call-3"]);
    let empty = svg(&JoinHistory::new(), &SvgOptions::default(), |_| {
        String::new()
    });
    assert!(roxmltree::Document::parse(&empty).is_ok());
}
