# Shared by scripts/run and scripts/test: create .venv once, reinstall only when the pins change.
ensure_venv() {
  local requirements=$1 python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    "$python" -c 'import sys; assert sys.version_info >= (3, 11), "Python >= 3.11 is required"' || exit 1
    "$python" -m venv .venv || {
      echo "Could not create a virtualenv. On Debian/Ubuntu: sudo apt-get install python3-venv" >&2; exit 1; }
  fi
  local stamp=".venv/.installed-$(basename "$requirements")" sum
  sum=$(cat requirements*.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$sum" ]; then
    echo "Installing dependencies from $requirements ..."
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -r "$requirements"
    echo "$sum" > "$stamp"
  fi
  export PATH="$PWD/.venv/bin:$PATH"
}
