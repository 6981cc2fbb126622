-- What are people talking about this week? (the group's last 7 days)
select term, sum(uses) as uses
from top_terms
where chat_id = -1001000000001
    and message_date > (select last_message_date from chats where chat_id = -1001000000001) - interval '7' day
group by term
order by uses desc, term
limit 20;
