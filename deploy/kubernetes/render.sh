#!/bin/sh
# render.sh — set the run id, the start instant, the number of shards and
# any env value of the hooklab Job manifests, and print them.
#
# Usage: deploy/kubernetes/render.sh [-r RUN_ID] [-s START_AT | -i SECONDS]
#                                    [-n SHARDS] [-e NAME=VALUE]… FILE…
#
#   -r RUN_ID    the run id: lower-case letters, digits and '-', at most 40,
#                starting and ending with a letter or digit (default: run-
#                and the current UTC time, such as run-20261206t045812).
#                It names the Jobs (hooklab-load-RUN_ID, hooklab-merge-RUN_ID),
#                labels them (hooklab.dev/run-id) and sets RUN_ID.
#   -s START_AT  the instant every shard starts, RFC 3339 (such as
#                2026-12-06T05:00:00Z); sets START_AT.
#   -i SECONDS   instead of -s: start that many seconds from now (default
#                120: time to schedule the pods and pull the image).
#   -n SHARDS    the number of pods: sets completions, parallelism and
#                --shard auto/SHARDS together (1 to 1000).
#   -e NAME=VALUE  set the value of env variable NAME (TARGET_URL, RATE,
#                DURATION, FIXTURE, MERGE_FLAGS …); NAME must be in a file.
#
# Each FILE is printed rendered, separated by ---. Only what is asked
# changes; RUN_ID is always set, START_AT always in a file that has it.
# Exit codes: 0 rendered, 2 bad usage.
#
#   deploy/kubernetes/render.sh -r run-42 -n 8 -e RATE=20000 deploy/kubernetes/load-job.yaml | kubectl apply -f -
set -eu

usage() {
	sed -n '/^# Usage:/,/^# Exit codes/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
fail() {
	echo "render.sh: $*" >&2
	exit 2
}

run_id=
start_at=
start_in=120
shards=
sets=
names=
while getopts r:s:i:n:e:h opt; do
	case $opt in
	r) run_id=$OPTARG ;;
	s) start_at=$OPTARG ;;
	i) start_in=$OPTARG ;;
	n) shards=$OPTARG ;;
	e)
		case $OPTARG in
		[A-Za-z_]*=*) ;;
		*) fail "-e $OPTARG: want NAME=VALUE" ;;
		esac
		name=${OPTARG%%=*}
		case $name in *[!A-Za-z0-9_]*) fail "-e $name: NAME may hold letters, digits and _ only" ;; esac
		case $OPTARG in *"
"*) fail "-e $name: the value holds a newline" ;; esac
		names="$names $name"
		sets="$sets$OPTARG
"
		;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || fail "no manifest: give the files to render, such as deploy/kubernetes/load-job.yaml"

if [ -z "$run_id" ]; then
	run_id=run-$(date -u +%Y%m%dt%H%M%S)
fi
if [ ${#run_id} -gt 40 ] || ! printf '%s\n' "$run_id" | grep -Eqx '[a-z0-9]([-a-z0-9]*[a-z0-9])?'; then
	fail "-r $run_id: want at most 40 lower-case letters, digits and '-', starting and ending with a letter or digit"
fi
if [ -z "$start_at" ]; then
	case $start_in in '' | *[!0-9]*) fail "-i $start_in: want whole seconds" ;; esac
	t=$(($(date -u +%s) + start_in))
	# GNU date takes -d @T, BSD date -r T.
	start_at=$(date -u -d "@$t" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$t" +%Y-%m-%dT%H:%M:%SZ)
fi
printf '%s\n' "$start_at" | grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})' ||
	fail "-s $start_at: want an RFC 3339 instant such as 2026-12-06T05:00:00Z"
if [ -n "$shards" ]; then
	case $shards in *[!0-9]* | 0*) fail "-n $shards: want a whole number from 1 to 1000" ;; esac
	[ "$shards" -le 1000 ] || fail "-n $shards: want a whole number from 1 to 1000"
fi

sets="RUN_ID=$run_id
START_AT=$start_at
$sets"
for f in "$@"; do
	[ -r "$f" ] || fail "$f: cannot read"
done
for name in $names; do
	cat "$@" | grep -Eq "^ *- name: $name\$" || fail "-e $name: no env variable $name in $*"
done

# The awk program sees the settings in the environment, never in its
# source or -v (which would interpret backslashes).
first=1
for f in "$@"; do
	[ $first = 1 ] || echo ---
	first=0
	RENDER_SETS=$sets RENDER_RUN_ID=$run_id RENDER_SHARDS=$shards awk '
	# quote escapes a value for a YAML double-quoted scalar.
	function quote(s,   out, i, c) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\" || c == "\"") out = out "\\"
			out = out c
		}
		return out
	}
	BEGIN {
		n = split(ENVIRON["RENDER_SETS"], lines, "\n")
		for (i = 1; i <= n; i++) {
			if (lines[i] == "") continue
			eq = index(lines[i], "=")
			name = substr(lines[i], 1, eq - 1)
			val = substr(lines[i], eq + 1)
			want[name] = quote(val)
		}
		run = ENVIRON["RENDER_RUN_ID"]; shards = ENVIRON["RENDER_SHARDS"]
	}
	# The env entry "- name: X" is followed by its "value:" line.
	pending != "" && $1 == "value:" {
		match($0, /^ */); print substr($0, 1, RLENGTH) "value: \"" want[pending] "\""
		done[pending] = 1; pending = ""; next
	}
	{ pending = "" }
	$1 == "-" && $2 == "name:" && ($3 in want) && NF == 3 { pending = $3 }
	/^  name: hooklab-(load|merge)-/ { match($0, /hooklab-(load|merge)-/); print "  name: " substr($0, RSTART, RLENGTH) run; next }
	$1 == "hooklab.dev/run-id:" { match($0, /^ */); print substr($0, 1, RLENGTH) "hooklab.dev/run-id: " run; next }
	shards != "" && ($1 == "completions:" || $1 == "parallelism:") && NF == 2 { match($0, /^ */); print substr($0, 1, RLENGTH) $1 " " shards; next }
	shards != "" && $1 == "--shard" && $2 ~ /^auto\/[0-9]+$/ { match($0, /^ */); print substr($0, 1, RLENGTH) "--shard auto/" shards; next }
	{ print }' "$f" || exit 2
done
