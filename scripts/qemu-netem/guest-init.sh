#!/bin/busybox sh
# /init of the qemu-netem guest: loads the traffic-control modules, joins two namespaces with a
# veth pair, applies network faults through netem_tool and prints "RESULT name key=value ..."
# lines on the serial console. The host (netem_tool check) judges them; this script only measures.
export PATH=/usr/sbin:/usr/bin:/bin:/sbin
/bin/busybox --install -s /bin
mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

# busybox's shell prefers its own applets over PATH; iproute2 is called by its full path
ip() { /usr/sbin/ip "$@"; }
tc() { /usr/sbin/tc "$@"; }
say() { echo "GUEST $*"; }
finish() { echo "RESULT done ok=$1"; sync; poweroff -f; }

for m in $(cat /modules.list); do insmod "/modules/$m" || say "insmod $m failed"; done

EXP=/lane.yaml
STATE=/tmp/state.json
ip link set lo up
ip netns add a && ip netns add b || finish 0
ip link add va netns a type veth peer name vb netns b || finish 0
ip -n a link set lo up
ip -n b link set lo up
ip -n a addr add 10.200.1.1/24 dev va
ip -n b addr add 10.200.1.2/24 dev vb
ip -n b addr add 10.200.1.3/24 dev vb
ip -n a link set va up
ip -n b link set vb up
netem_tool --netns b udp-echo 7001 7002 > /tmp/echo.out 2>&1 &
sleep 1

echo "RESULT probe $(netem_tool probe | head -n1)"

tree_text() { tc -n a qdisc show dev va; tc -n a class show dev va; tc -n a filter show dev va; }
# htb's direct_packets_stat is a counter, not configuration
tree() { tree_text | sed 's/direct_packets_stat [0-9]*//' | md5sum | cut -c1-12; }
# rtt HOST PORT: "<median ms> <replies>" of 50 datagrams sent 5 ms apart from namespace a
rtt() { netem_tool --netns a udp-rtt "$1" "$2" 50 5 | sed -n 's/.*received=\([0-9]*\) median_ms=\([0-9.-]*\).*/\2 \1/p'; }
# field KEY "<ms> <replies>": KEY_ms=<ms> KEY_received=<replies>
field() { set -- "$1" $2; echo "$1_ms=$2 $1_received=$3"; }

# inject STEP: starts netem_tool holding the fault; returns once it is applied
inject() {
  rm -f /tmp/inject.out
  netem_tool inject $EXP "$1" --state $STATE --hold > /tmp/inject.out 2>&1 &
  HOLDER=$!
  for i in $(seq 1 100); do
    grep -q '^APPLIED\|^ERROR\|^CAPABILITY' /tmp/inject.out && break
    sleep 0.1
  done
  say "$1: $(head -c 600 /tmp/inject.out)"
  grep -q '^APPLIED' /tmp/inject.out
}
revert() {
  kill -TERM $HOLDER
  wait $HOLDER
  REVERT_STATUS=$?
  say "revert: $(tail -n1 /tmp/inject.out | head -c 600)"
}
observed() { grep -q '^REVERTED observed=1' /tmp/inject.out && echo 1 || echo 0; }

# Baselines, no fault
B71=$(rtt 10.200.1.2 7001); B72=$(rtt 10.200.1.2 7002); B3=$(rtt 10.200.1.3 7001)
say "baseline rtt: .2:7001 $B71 .2:7002 $B72 .3:7001 $B3"

# 50 ms delay on everything leaving va
T0=$(tree)
inject delay && F=$(rtt 10.200.1.2 7001)
revert
echo "RESULT delay $(field base "$B71") $(field fault "$F") observed=$(observed) tree_before=$T0 tree_after=$(tree)"

# 10% loss over 1000 datagrams
inject loss
L=$(netem_tool --netns a udp-rtt 10.200.1.2 7001 1000 1)
tc -n a -s qdisc show dev va > /tmp/loss-stats.txt
DROPS=$(sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' /tmp/loss-stats.txt | head -n1)
revert
SENT=$(echo "$L" | sed -n 's/.*sent=\([0-9]*\).*/\1/p'); RECV=$(echo "$L" | sed -n 's/.*received=\([0-9]*\).*/\1/p')
echo "RESULT loss sent=$SENT received=$RECV netem_drops=$DROPS tree_before=$T0 tree_after=$(tree)"

# only port 7001 delayed
inject port_scope && FI=$(rtt 10.200.1.2 7001) && FO=$(rtt 10.200.1.2 7002)
tc -n a filter show dev va | head -n 8
revert
echo "RESULT port_scope $(field in_base "$B71") $(field in_fault "$FI") $(field out_base "$B72") $(field out_fault "$FO") tree_before=$T0 tree_after=$(tree)"

# only traffic to/from 10.200.1.2 delayed
inject host_scope && FI=$(rtt 10.200.1.2 7001) && FO=$(rtt 10.200.1.3 7001)
revert
echo "RESULT host_scope $(field in_base "$B71") $(field in_fault "$FI") $(field out_base "$B3") $(field out_fault "$FO") tree_before=$T0 tree_after=$(tree)"

# every parameter at once: the kernel must accept the messages
if inject all_params; then APPLIED=1; else APPLIED=0; fi
Q=$(tc -n a -d qdisc show dev va | tr '\n' ' ')
say "all_params qdisc: $Q"
has() { case "$Q" in *"$1"*) echo 1 ;; *) echo 0 ;; esac; }
revert
echo "RESULT all_params applied=$APPLIED gemodel=$(has 'loss gemodel p 1% r 30% 1-h 50% 1-k 1%') rate=$(has 'rate 100Mbit') reorder=$(has 'reorder 5% 5%') duplicate=$(has 'duplicate 1% 5%') corrupt=$(has 'corrupt 0.5% 5%') gap=$(has 'gap 3') limit=$(has 'limit 5000') tree_before=$T0 tree_after=$(tree)"

# the jitter's shape (the kernel does not report the table back, so measure it): normal with
# sigma 20 ms spreads p10..p90 over 2.56 sigma = 51 ms; uniform +/-20 ms would give 32 ms
inject jitter_normal && J=$(netem_tool --netns a udp-rtt 10.200.1.2 7001 200 2)
revert
echo "RESULT jitter_normal $(echo "$J" | tr -d '\r')"

# a tree of our own on va: htb with two classes, a pfifo leaf and a u32 filter; restored exactly
tc -n a qdisc add dev va root handle 1: htb default 20
tc -n a class add dev va parent 1: classid 1:1 htb rate 900mbit
tc -n a class add dev va parent 1:1 classid 1:10 htb rate 500mbit ceil 900mbit
tc -n a class add dev va parent 1:1 classid 1:20 htb rate 400mbit ceil 900mbit
tc -n a qdisc add dev va parent 1:10 handle 10: pfifo limit 500
tc -n a filter add dev va parent 1: protocol ip prio 5 u32 match ip dport 5432 0xffff flowid 1:10
H0=$(tree)
tree_text > /tmp/htb-before.txt
inject htb_scoped
HD=$(tree)
revert
tree_text > /tmp/htb-after.txt
diff /tmp/htb-before.txt /tmp/htb-after.txt && say "htb tree text identical"
D=0; [ "$HD" != "$H0" ] && D=1
echo "RESULT htb_tree during_differs=$D tree_before=$H0 tree_after=$(tree)"

# a run killed with SIGKILL leaves the fault; `faultline recover` restores the tree from the state file
inject killed
kill -KILL $HOLDER; wait $HOLDER 2>/dev/null
HK=$(tree)
say "after SIGKILL: $(tc -n a qdisc show dev va | head -n1)"
say "faultline recover: $(faultline recover --state-file $STATE 2>&1 | tr '\n' ' ')"
D=0; [ "$HK" != "$H0" ] && D=1
echo "RESULT recover during_differs=$D tree_before=$H0 tree_after=$(tree)"

# someone replaces the root while the fault runs: revert and recover refuse and leave it alone
inject changed_root
tc -n a qdisc replace dev va root handle 77: tbf rate 10mbit burst 32kb latency 50ms
revert
R=0; [ "$REVERT_STATUS" != 0 ] && grep -q 'changed since faultline injected' /tmp/inject.out && R=1
faultline recover --state-file $STATE > /tmp/recover.out 2>&1 && R=0  # must fail (exit 4) and say why
grep -q 'changed since faultline injected' /tmp/recover.out || R=0
say "faultline recover: $(tr '\n' ' ' < /tmp/recover.out | head -c 300)"
K=0; tc -n a qdisc show dev va | grep -q 'tbf 77: root' && K=1
echo "RESULT changed_root revert_refused=$R foreign_kept=$K"

finish 1
