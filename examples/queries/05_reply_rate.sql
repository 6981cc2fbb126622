-- Are questions getting answers?
select message_date, messages, replied_messages, round(100 * reply_rate, 1) as reply_pct,
    round(median_minutes_to_first_reply, 1) as median_minutes
from reply_times
where chat_id = -1001000000001
order by message_date desc;
