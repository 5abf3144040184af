# bash completion for portable-generator(8)
# Installed as /usr/share/bash-completion/completions/portable-generator.
# Kept in step with the command line's tables by completion_test.go.

__portable_generator_images() {
    # The first column of `list`'s table (header left out, and the last run's
    # summary after the blank line): every image found.
    portable-generator ${1:+--root="$1"} list 2>/dev/null | awk 'NR > 1 && NF == 0 { exit } NR > 1 { print $1 }'
}

_portable_generator() {
    local cur prev words cword
    _init_completion -n = || return

    local verbs='list inspect dissect reconcile'
    local -A verb_opts=(
        [list]='--json --json= --root= --systemd-version='
        [inspect]='--json --json= --root= --systemd-version='
        [dissect]='--json --json='
        [reconcile]='--dry-run --root='
        [none]='--dry-run --root= --systemd-version='
    )

    # The verb is the first word that is not an option; --root and
    # --systemd-version may take their value as the next word.
    local verb='' root='' dry_run='' i operands=0
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            --root) root=${words[i+1]}; ((i++)) ;;
            --root=*) root=${words[i]#--root=} ;;
            --systemd-version) ((i++)) ;;
            --dry-run) dry_run=1 ;;
            --) break ;;
            -*) ;;
            *) if [[ -z $verb ]] && [[ " $verbs " == *" ${words[i]} "* ]]; then verb=${words[i]}; else ((++operands)); fi ;;
        esac
    done

    case $cur in
        --root=*) cur=${cur#--root=}; _filedir -d; return ;;
        --json=*) COMPREPLY=($(compgen -W 'pretty short off' -- "${cur#--json=}")); return ;;
        --systemd-version=*) return ;;
    esac
    case $prev in
        --root) _filedir -d; return ;;
        --systemd-version) return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "--help --version ${verb_opts[${verb:-none}]}" -- "$cur"))
        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace
        return
    fi

    case $verb in
        inspect) ((operands == 0)) && COMPREPLY=($(compgen -W "$(__portable_generator_images "$root")" -- "$cur")) ;;
        dissect) ((operands == 0)) && _filedir ;;
        list|reconcile) ;;
        *)
            if [[ -n $dry_run ]]; then
                COMPREPLY=($(compgen -W "$(__portable_generator_images "$root")" -- "$cur"))
            elif ((operands == 0)); then
                COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
            fi
            ;;
    esac
}

complete -F _portable_generator portable-generator
