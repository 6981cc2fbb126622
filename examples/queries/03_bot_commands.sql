-- What do people ask the bot for most? (the last 30 days of the lake)
select bot_command, sum(uses) as uses
from bot_commands
where message_date > (select max(last_message_date) from chats) - interval '30' day
group by bot_command
order by uses desc, bot_command;
