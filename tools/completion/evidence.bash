# bash completion for evidence(1). The commands and options come from the
# tool itself ('evidence --help', 'evidence help <command>'), so they never
# fall behind the help pages they are generated from.
_evidence()
{
    local cur prev words cword
    _init_completion 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    }
    local i cmd=""
    for ((i = 1; i < cword; i++)); do
        case ${words[i]} in
            -*) ;;
            *) cmd=${words[i]}; break ;;
        esac
    done
    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version --quiet --progress=auto --progress=json --progress=none" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "help $("${words[0]}" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')" -- "$cur"))
        fi
        return
    fi
    case $cmd in
        help)
            COMPREPLY=($(compgen -W "$("${words[0]}" --help 2>/dev/null | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p')" -- "$cur"))
            return ;;
        custody)
            if [[ $cword -eq $((i + 1)) ]]; then
                COMPREPLY=($(compgen -W "add show" -- "$cur"))
                return
            fi ;;
    esac
    case $prev in
        --profile)
            COMPREPLY=($(compgen -W "$("${words[0]}" profiles 2>/dev/null | awk '{print $1}')" -- "$cur"))
            return ;;
        --exhibits)
            COMPREPLY=($(compgen -f -X '!*.@(csv|CSV|json|JSON)' -- "$cur") $(compgen -d -- "$cur"))
            compopt -o filenames 2>/dev/null
            return ;;
        --format)
            COMPREPLY=($(compgen -W "zip dir" -- "$cur"))
            return ;;
        --content-hash)
            COMPREPLY=($(compgen -W "both packets decoded none" -- "$cur"))
            return ;;
        --action)
            COMPREPLY=($(compgen -W "received verified transcoded exported note" -- "$cur"))
            return ;;
    esac
    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$("${words[0]}" help "$cmd" 2>/dev/null | grep -o -- '--[a-z][a-z0-9-]*' | sort -u) --quiet --progress=auto --progress=json --progress=none" -- "$cur"))
        return
    fi
    COMPREPLY=($(compgen -f -- "$cur"))
    compopt -o filenames 2>/dev/null
}
complete -F _evidence evidence
