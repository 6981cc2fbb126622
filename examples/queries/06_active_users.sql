-- Who is active?
select user_id, max_by(first_name, message_date) as first_name, sum(messages) as messages,
    count(*) as active_days
from user_daily_activity
where chat_id = -1001000000001 and not is_bot
group by user_id
order by messages desc, user_id;
