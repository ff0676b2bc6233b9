"""The code `rasa run` loads into itself, by the class paths of the Rasa project's files
(dialogues/project/): the REST channel the Slack app posts to (channel.py, named in
credentials.yml), where conversations and their locks are kept (stores.py, endpoints.yml), the two
NLU components at the end of the pipeline (nlu_detours.py and nlu_language.py, config.yml), and
the speed fixes to Rasa's own code (rasa_speedups.py, installed by the channel and by
`python -m dialogues.rasa_cli`). None of it runs in the action server, which never imports this
package; what both processes use (languages.py, shared_secret.py) stays in dialogues/.
"""
