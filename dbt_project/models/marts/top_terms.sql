{#
    The most frequent words per chat and day in message texts and media captions: lower-case runs
    of letters and digits, without links, @mentions, /commands (each up to white space, tabs and
    no-break spaces included), numbers, words shorter than
    var('top_terms_min_length') and the stop words of the `stop_words` seed (Portuguese, English).
    Incremental by local date: a nightly build ranks again only the dates the
    rebuilt days of receipt carry (see macros/incremental/partitions.sql).
#}

{%- set dates = tgpipe.changed_local_dates('messages', ['message_date'])
    if tgpipe.nightly() else none %}

{{ config(**tgpipe.incremental_by_partition(
    'message_date',
    "{{ tgpipe.clear_partitions('message_date',
        tgpipe.changed_local_dates('messages', ['message_date'])) }}"
)) }}

-- depends_on: {{ ref('stg_telegram__messages') }}
-- depends_on: {{ ref('stg_telegram__partitions') }}

{%- set min_length = var('top_terms_min_length') | int -%}
{%- set per_day = var('top_terms_per_day') | int -%}
{#- White space as both engines read it (tabs, newlines, no-break spaces). -#}
{%- set space = '[' ~ tgpipe.whitespace_class() ~ ']' -%}
{%- set word = '[^' ~ tgpipe.whitespace_class() ~ ']+' -%}
{%- set noise = '(https?://|www\\.)' ~ word ~ '|(^|' ~ space ~ ')[@/]' ~ word %}

with

messages as (

    select * from {{ ref('messages') }}
    where {{ tgpipe.within('message_date', dates) }}

),

stop_words as (

    select * from {{ ref('stop_words') }}

),

-- A word can be a stop word in both languages.
stop_word_list as (

    select distinct word from stop_words

),

texts as (

    select
        chat_id,
        message_date,
        update_id,
        user_id,
        lower(
            concat(coalesce(message_text, ''), ' ', coalesce(caption, ''))
        ) as body
    from messages
    where message_text is not null or caption is not null

),

cleaned as (

    select
        chat_id,
        message_date,
        update_id,
        user_id,
        {{ tgpipe.regexp_replace_all('body', noise, ' ') }} as body
    from texts

),

words as (

    select
        cleaned.chat_id,
        cleaned.message_date,
        cleaned.update_id,
        cleaned.user_id,
        extracted.term
    from cleaned
    cross join
        unnest({{ tgpipe.regexp_find_all('cleaned.body', '[\\p{L}\\p{N}]+') }})
            as extracted (term)

),

terms as (

    select
        words.chat_id,
        words.message_date,
        words.term,
        count(*) as uses,
        count(distinct words.update_id) as messages,
        count(distinct words.user_id) as users
    from words
    left join stop_word_list
        on words.term = stop_word_list.word
    where
        stop_word_list.word is null
        and {{ tgpipe.char_length('words.term') }} >= {{ min_length }}
        and not {{ tgpipe.regexp_like('words.term', '^[0-9]+$') }}
    group by 1, 2, 3

),

ranked as (

    select
        terms.*,
        row_number() over (
            partition by terms.chat_id, terms.message_date
            order by terms.uses desc, terms.messages desc, terms.term asc
        ) as term_rank
    from terms

),

final as (

    select
        {{ tgpipe.partition_last(
            ['chat_id', 'message_date', 'term_rank', 'term', 'uses', 'messages',
             'users'],
            'message_date'
        ) }}
    from ranked
    where term_rank <= {{ per_day }}

)

select * from final
