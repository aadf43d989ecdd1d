# bash completion for pcopy and pcopy-mpi (installed into bash-completion's directory by
# `cmake --install`). The options come from pcopy's own --help, so they never go stale; the
# values of the options that take a word from a list are completed from that list, and
# everything else is a file name.
_pcopy() {
  local cur prev words cword split
  _init_completion -s || return

  case $prev in
    --strategy)
      COMPREPLY=($(compgen -W 'contiguous interleaved dynamic guided' -- "$cur"))
      return ;;
    --method)
      COMPREPLY=($(compgen -W 'auto copy_file_range copy_file_range+pread pread sendfile mmap
                                 direct' -- "$cur"))
      return ;;
    --sparse | --reflink)
      COMPREPLY=($(compgen -W 'auto always never' -- "$cur"))
      return ;;
    --progress)
      COMPREPLY=($(compgen -W 'auto bar plain json none' -- "$cur"))
      return ;;
    --checksum | --check)
      # An optional value, given only as --checksum=ALGO: a bare --checksum takes no word.
      if $split; then
        COMPREPLY=($(compgen -W 'tree xxh128' -- "$cur"))
        return
      fi ;;
    --preserve | --no-preserve)
      # --preserve's list is optional, so only --preserve=LIST takes one (a bare --preserve is
      # followed by an option or a file, completed below); --no-preserve's is not.
      if [[ $prev == --no-preserve ]] || $split; then
        # A comma-separated list: the word after the last comma is completed.
        local done_part=${cur%"${cur##*,}"}
        COMPREPLY=($(compgen -P "$done_part" -W 'mode ownership timestamps links xattr all' \
          -- "${cur##*,}"))
        return
      fi ;;
    -t | --target-directory)
      _filedir -d
      return ;;
    -j | --jobs | --chunk-size | --buffer-size | --bwlimit | --slow-worker | --retries | \
      --stall-timeout | --demo-size)
      return ;;  # a number or a size: nothing to offer
  esac
  $split && return

  if [[ $cur == -* ]]; then
    # pcopy-mpi takes pcopy's options, and its own --help needs an MPI start: ask pcopy.
    COMPREPLY=($(compgen -W '$(_parse_help "${1%-mpi}")' -- "$cur"))
    [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
    return
  fi
  _filedir
}
complete -F _pcopy pcopy pcopy-mpi
