# SPDX-License-Identifier: BSD-3-Clause
# Sourced by run.sh and callgrind.sh (after net.env): the vpngw config of
# the gateway benchmark. Uses $work (run files go to $work/run) and
# $public_mtu.
# shellcheck shell=bash

# vpngw: the YAML of DESIGN.md with a static SA, replay off. The input port
# is listed first so that it is probed first and net_pcap gives it the MAC
# the pcaps are addressed to (02:70:63:61:70:00) also when the output is a
# second net_pcap (verify runs).
vpngw_cfg() { # DIR ALG LAN_DEVICE WAN_DEVICE FILE TAG
	local dir=$1 alg=$2 lan=$3 wan=$4 file=$5 tag=$6 enc integ ko ki ao="" ai=""
	if [ "$alg" = gcm ]; then
		enc=aes-gcm-128 integ=none ko=$BENCH_GCM_KEY_OUT ki=$BENCH_GCM_KEY_IN
	else
		enc=aes integ=sha1 ko=$BENCH_CBC_KEY_OUT ki=$BENCH_CBC_KEY_IN
		ao=", auth_key: \"$BENCH_SHA1_KEY_OUT\"" ai=", auth_key: \"$BENCH_SHA1_KEY_IN\""
	fi
	local lan_port wan_port
	lan_port=$(
		cat <<-EOF
			    - name: lan
			      device: "$lan"
			      role: private
			      address: $BENCH_LAN_IP/$BENCH_LAN_PREFIX
			      routes: [{to: $BENCH_LOCAL_NET, via: $BENCH_LAN_NH}]
			      neighbours: [{ip: $BENCH_LAN_NH, mac: "$BENCH_LAN_NH_MAC"}]
		EOF
	)
	# MTU 2000 on the public port, as ipsec-secgw gets (--mtu): IMIX's
	# 1500-byte inner packets leave as one ESP packet each on both sides
	# (with 1500 ipsec-secgw drops them, vpngw fragments them).
	wan_port=$(
		cat <<-EOF
			    - name: wan
			      device: "$wan"
			      role: public
			      address: $BENCH_WAN_IP/$BENCH_WAN_PREFIX
			      gateway: $BENCH_WAN_NH
			      mtu: $public_mtu
			      neighbours: [{ip: $BENCH_WAN_NH, mac: "$BENCH_WAN_NH_MAC"}]
		EOF
	)
	local ports
	if [ "$dir" = enc ]; then ports="$lan_port"$'\n'"$wan_port"; else ports="$wan_port"$'\n'"$lan_port"; fi
	cat >"$file" <<-EOF
		gateway:
		  name: bench
		  workers: auto
		  poll_mode: busy
		  control_socket: $work/run/$tag.sock
		  metrics_listen: 127.0.0.1:$((20000 + ($$ % 20000)))
		  ports:
		$ports
		static_sas:
		  - name: bench
		    peer: $BENCH_PEER_IP
		    local_subnets: [$BENCH_LOCAL_NET]
		    remote_subnets: [$BENCH_REMOTE_NET]
		    encryption: $enc
		    integrity: $integ
		    replay_window: 0
		    out: {spi: $BENCH_SPI_OUT, enc_key: "$ko"$ao}
		    in: {spi: $BENCH_SPI_IN, enc_key: "$ki"$ai}
	EOF
}
