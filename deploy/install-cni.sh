#!/bin/sh
# install-cni: copies the CNI plugins into the host's bin dir, writes the meta plugin's config
# and its kubeconfig (from the pod's service account), then sleeps so the DaemonSet stays up.
# usage: install-cni --plugins a,b,c --bin-dir DIR --conf-dir DIR --multus-conf FILE
set -eu
plugins="" bin_dir="" conf_dir="" multus_conf=""
while [ $# -gt 0 ]; do
  case "$1" in
    --plugins) plugins="$2" ;;
    --bin-dir) bin_dir="$2" ;;
    --conf-dir) conf_dir="$2" ;;
    --multus-conf) multus_conf="$2" ;;
    *) echo "install-cni: unknown argument $1" >&2; exit 2 ;;
  esac
  shift 2
done
for p in $(echo "$plugins" | tr ',' ' '); do
  # copy then rename: a runtime never executes a half-written plugin
  cp "/usr/bin/$p" "$bin_dir/.$p.tmp"
  mv "$bin_dir/.$p.tmp" "$bin_dir/$p"
done
sa=/var/run/secrets/kubernetes.io/serviceaccount
mkdir -p "$conf_dir/multus.d"
umask 077
cat > "$conf_dir/multus.d/.multus.kubeconfig.tmp" <<KUBECONFIG
apiVersion: v1
kind: Config
clusters:
- name: local
  cluster:
    server: https://${KUBERNETES_SERVICE_HOST}:${KUBERNETES_SERVICE_PORT}
    certificate-authority-data: $(base64 -w0 < "$sa/ca.crt")
users:
- name: multus
  user:
    token: $(cat "$sa/token")
contexts:
- name: multus-context
  context:
    cluster: local
    user: multus
current-context: multus-context
KUBECONFIG
mv "$conf_dir/multus.d/.multus.kubeconfig.tmp" "$conf_dir/multus.d/multus.kubeconfig"
cp "$multus_conf" "$conf_dir/.00-multus.conf.tmp"
mv "$conf_dir/.00-multus.conf.tmp" "$conf_dir/00-multus.conf"
echo "install-cni: installed $plugins into $bin_dir, 00-multus.conf into $conf_dir"
exec sleep infinity
