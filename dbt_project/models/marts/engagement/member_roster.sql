{#
    Who is in each chat: every person who posted, joined, left or reacted, with
    their membership and activity. Membership comes from
    stg_telegram__member_events; the latest event that says whether the person
    is in the chat decides is_member:

    * in the chat: joined, promoted, demoted; unrestricted when the new status
      is creator, administrator or member; restricted when the old status was
      creator, administrator or member (a member muted stays a member);
    * out of the chat: left, kicked, banned; unbanned (allowed back, not back
      in); restricted from any other status (a restricted person who left, or
      one restricted before joining); unrestricted to left or kicked;
    * no say: join_requested (not yet approved) and updated (rights or title
      changed, membership the same).

    Bots (is_bot in a message or a member event) are not people: left out.
#}

with

people_messages as (

    select * from {{ ref('int_people_messages') }}

),

messages as (

    select * from {{ ref('stg_telegram__messages') }}

),

member_events as (

    select * from {{ ref('stg_telegram__member_events') }}

),

reactions as (

    select * from {{ ref('stg_telegram__reactions') }}

),

chats as (

    select * from {{ ref('chats') }}

),

bots as (

    select distinct user_id from messages
    where user_is_bot and user_id is not null
    union distinct
    select distinct user_id from member_events
    where user_is_bot

),

reactors as (

    select
        chat_id,
        user_id,
        reacted_at,
        delta
    from reactions
    where not is_snapshot and user_id is not null

),

membership as (

    select
        chat_id,
        user_id,
        update_id,
        member_event,
        changed_at,
        case
            when member_event in ('joined', 'promoted', 'demoted') then true
            when
                member_event in ('left', 'kicked', 'banned', 'unbanned')
                then false
            when member_event = 'unrestricted'
                then
                    coalesce(
                        new_status in ('creator', 'administrator', 'member'),
                        false
                    )
            when member_event = 'restricted'
                then
                    coalesce(
                        old_status in ('creator', 'administrator', 'member'),
                        false
                    )
        end as leaves_in_chat
    from member_events

),

-- The latest event with a say; on the same second, the later update.
ranked_membership as (

    select
        chat_id,
        user_id,
        leaves_in_chat,
        row_number() over (
            partition by chat_id, user_id
            order by changed_at desc, update_id desc
        ) as recency_rank
    from membership
    where leaves_in_chat is not null

),

latest_membership as (

    select
        chat_id,
        user_id,
        leaves_in_chat as is_member
    from ranked_membership
    where recency_rank = 1

),

joins as (

    select
        chat_id,
        user_id,
        max(changed_at) as joined_at
    from membership
    where member_event = 'joined'
    group by 1, 2

),

leaves as (

    select
        membership.chat_id,
        membership.user_id,
        max(membership.changed_at) as left_at
    from membership
    left join joins
        on
            membership.chat_id = joins.chat_id
            and membership.user_id = joins.user_id
    where
        membership.member_event in ('left', 'kicked', 'banned')
        and (
            joins.joined_at is null
            or membership.changed_at >= joins.joined_at
        )
    group by 1, 2

),

posting as (

    select
        chat_id,
        user_id,
        count(*) as messages,
        max(sent_at) as last_message_at,
        max(message_date) as last_message_date
    from people_messages
    group by 1, 2

),

reacting as (

    select
        chat_id,
        user_id,
        count(case when delta = 1 then 1 end) as reactions_given
    from reactors
    group by 1, 2

),

-- Every time a person shows up: a message, a membership event, a reaction.
sightings as (

    select
        chat_id,
        user_id,
        sent_at as seen_at
    from people_messages
    union all
    select
        chat_id,
        user_id,
        changed_at as seen_at
    from member_events
    union all
    select
        chat_id,
        user_id,
        reacted_at as seen_at
    from reactors

),

people as (

    select
        chat_id,
        user_id,
        min(seen_at) as first_seen_at
    from sightings
    group by 1, 2

),

final as (

    select
        people.chat_id,
        people.user_id,
        people.first_seen_at,
        joins.joined_at,
        leaves.left_at,
        latest_membership.is_member,
        cast(coalesce(posting.messages, 0) as bigint) as messages,
        cast(
            coalesce(reacting.reactions_given, 0) as bigint
        ) as reactions_given,
        posting.last_message_at,
        cast(
            {{ tgpipe.days_between(
                'posting.last_message_date', 'chats.last_message_date'
            ) }} as bigint
        ) as days_silent
    from people
    left join bots
        on people.user_id = bots.user_id
    left join posting
        on
            people.chat_id = posting.chat_id
            and people.user_id = posting.user_id
    left join reacting
        on
            people.chat_id = reacting.chat_id
            and people.user_id = reacting.user_id
    left join joins
        on
            people.chat_id = joins.chat_id
            and people.user_id = joins.user_id
    left join leaves
        on
            people.chat_id = leaves.chat_id
            and people.user_id = leaves.user_id
    left join latest_membership
        on
            people.chat_id = latest_membership.chat_id
            and people.user_id = latest_membership.user_id
    left join chats
        on people.chat_id = chats.chat_id
    where bots.user_id is null

)

select * from final
