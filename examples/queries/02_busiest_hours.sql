-- When is the group busiest? (average messages per local weekday and hour)
select day_name, hour_of_day, round(cast(messages as double) / active_days, 1) as messages_per_day
from hourly_activity
where chat_id = (select chat_id from chats where chat_title = 'Comunidade tgpipe 🇧🇷')
order by messages_per_day desc, day_of_week, hour_of_day
limit 5;
