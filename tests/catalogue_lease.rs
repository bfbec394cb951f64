use joincheck::check::loom::{check, LoomOptions};
use joincheck::check::proptest::{check_workloads, ProptestOptions};
use joincheck::check::shuttle::{self, ShuttleOptions};
use joincheck::check::Scenario;
use joincheck::service::LeaseLock;
use joincheck_models::verdict::Verdict;

fn show(v: &Verdict) {
    match v {
        Verdict::Violated {
            counterexample,
            stats,
            ..
        } => {
            eprintln!(
                "violated {:?} {:?}\n{}",
                stats.iterations,
                counterexample.replay,
                joincheck::trace::text(counterexample, None)
            );
        }
        other => eprintln!("{other:?}"),
    }
}

#[test]
fn scratch() {
    for service in [LeaseLock::PLAIN, LeaseLock::FENCED, LeaseLock::FENCED_READS] {
        let t = std::time::Instant::now();
        let v = check(service, &Scenario::article(), &LoomOptions::default()).unwrap();
        eprintln!(
            "loom {:?} {:.2}s",
            service.fencing,
            t.elapsed().as_secs_f64()
        );
        show(&v);
        let t = std::time::Instant::now();
        let v = shuttle::check(service, &Scenario::article(), &ShuttleOptions::default());
        eprintln!(
            "shuttle {:?} {:.2}s",
            service.fencing,
            t.elapsed().as_secs_f64()
        );
        show(&v);
        let t = std::time::Instant::now();
        let (v, w) = check_workloads(service, &ProptestOptions::default());
        eprintln!(
            "proptest {:?} {:.2}s {:?}",
            service.fencing,
            t.elapsed().as_secs_f64(),
            w
        );
        show(&v);
    }
}
