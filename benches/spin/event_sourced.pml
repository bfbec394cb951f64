/*
 * joincheck's event-sourced protocol (one global stream), joins only, in Promela.
 *
 * The reference semantics of docs/ARCHITECTURE.md ("The models, exactly"), written so that
 * one Spin state is one joincheck state: S servers each handle N requests one after another;
 * a request is "add user u to team t" for any u < U, t < T, chosen when the request arrives.
 * One transition is one atomic operation on the event log:
 *
 *   read    an idle server chooses (user, team) and reads the log: its version (its length)
 *           and whether the user has joined. Joined: the request ends. Not: append pending.
 *   append  Joined(user, team) expecting the version read. The log is still at that version:
 *           appended, the request ends. It moved on: conflict, the server is retrying.
 *   reread  a retrying server reads again, for the same (user, team).
 *
 * A state is each server's (requests done, phase, user, team, version seen) and the log;
 * nothing else. An idle server keeps nothing of its last request (user, team, version are 0);
 * a retrying server keeps its user and team and resets its version to 0. Every loop variable
 * is hidden, the choice of (user, team) happens inside an atomic sequence (whose intermediate
 * states Spin does not store) and every process always sits at the head of its loop, so
 * Spin's "states, stored" is joincheck's unreduced count:
 *
 *   S,U,T,N = 3,3,3,2: 1,799,380 states      3,3,3,3: 8,168,959 states
 *   (2,2,2,1: 125   2,2,2,2: 777   3,2,2,2: 17,701   3,3,3,1: 23,311)
 *
 * Checked: "a user is on at most one team" (an assertion after every append, the only
 * operation that changes membership) and "every request completes" (when nothing else can
 * move, every server has done its N requests). Neither may fail.
 *
 * Commands (sizes default to 2,2,2,1; give all four):
 *
 *   spin -a -DS=3 -DU=3 -DT=3 -DN=3 event_sourced.pml
 *   gcc -O2 -DSAFETY -DNOREDUCE -o pan pan.c
 *   ./pan                    (defaults -m10000 -w24; depth reached is 58 at N=2, 73 at N=3)
 *
 * and read "states, stored". -DNOREDUCE (no partial-order reduction) and -DSAFETY give the
 * same count without them: every transition touches the shared log, so there is nothing to
 * reduce, and there is no never claim. -w only sizes the hash table and -DCOLLAPSE only
 * compresses states; -DBITSTATE or -DHC4 would make the count approximate.
 *
 * "transitions" is joincheck's generated_states plus S for each final state (the timeout
 * self-loops below): +675 at 3,3,3,N, which has 225 final states.
 */

#ifndef S
#define S 2   /* servers */
#endif
#ifndef U
#define U 2   /* users */
#endif
#ifndef T
#define T 2   /* teams */
#endif
#ifndef N
#define N 1   /* requests per server */
#endif

/* The shared database: the event log, one global stream of Joined(user, team) events. Each
 * user joins at most once, so U slots suffice; slots past log_len stay 0. The stream's
 * version is its length. */
typedef Event { byte user; byte team };
Event log[U];
byte log_len;

/* Where a server is in its current request. */
mtype = { IDLE, PENDING, RETRYING };

/* Scratch for the operations' loops: hidden, so no part of the state. */
hidden byte i, k;
hidden byte joined;

/* The request ends: the server is idle again and keeps nothing of it. */
inline end_request() {
  done++;
  phase = IDLE;
  user = 0;
  team = 0;
  version = 0
}

/* Read the stream: its version, and whether the user has joined. Already joined: the request
 * ends (the user is already on a team). Not: append pending at the version read. */
inline read_stream() {
  d_step {
    version = log_len;
    joined = false;
    i = 0;
    do
    :: i < log_len -> joined = joined || (log[i].user == user); i++
    :: else -> break
    od;
    if
    :: joined -> end_request()
    :: else -> phase = PENDING
    fi
  }
}

/* The invariant: a user is on at most one team. With joins only, the user is on every team
 * the log has a Joined(user, team) for, so no two events may name one user and two teams. */
inline assert_one_team_per_user() {
  i = 0;
  do
  :: i < log_len ->
       k = i + 1;
       do
       :: k < log_len ->
            assert(log[i].user != log[k].user || log[i].team == log[k].team);
            k++
       :: else -> break
       od;
       i++
  :: else -> break
  od
}

active [S] proctype Server() {
  byte done = 0;          /* requests this server has completed */
  mtype phase = IDLE;     /* where it is in the current request */
  byte user = 0;          /* the current request's user (0 when idle) */
  byte team = 0;          /* the current request's team (0 when idle) */
  byte version = 0;       /* the stream version read and expected by the append (0 otherwise) */

end:
  do
  /* read: a request arrives with any user and team, merged with its first read */
  :: atomic {
       phase == IDLE && done < N ->
       select(user : 0 .. U - 1);
       select(team : 0 .. T - 1);
       read_stream()
     }

  /* append Joined(user, team), expecting the version read */
  :: d_step {
       phase == PENDING ->
       if
       :: log_len == version ->             /* appended: the stream is now at version + 1 */
            log[log_len].user = user;
            log[log_len].team = team;
            log_len++;
            assert_one_team_per_user();
            end_request()
       :: else ->                           /* conflict: the stream has moved on */
            phase = RETRYING;
            version = 0
       fi
     }

  /* reread after a conflict, for the same request */
  :: atomic { phase == RETRYING -> read_stream() }

  /* every request completes: once no server can move, each has done all of its requests
   * (a self-loop back to the same state, so it adds no state) */
  :: atomic { timeout -> assert(done == N) }
  od
}
