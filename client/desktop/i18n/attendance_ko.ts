<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="ko_KR" sourcelanguage="en">
<context>
    <name>CheckinScreen</name>
    <message>
        <location filename="../checkin.py" line="132"/>
        <source>No camera or video source.
Start with --camera N, --video FILE or --images DIR.</source>
        <translation>카메라나 영상 입력이 없습니다.
--camera N, --video 파일 또는 --images 폴더로 시작하세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="138"/>
        <source>Starting the camera…</source>
        <translation>카메라를 켜는 중…</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="266"/>
        <source>Look at the camera to check in.</source>
        <translation>출석하려면 카메라를 보세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="166"/>
        <source>&amp;Yes, that is me</source>
        <translation>예, 본인입니다(&amp;Y)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="167"/>
        <source>&amp;No</source>
        <translation>아니요(&amp;N)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="176"/>
        <source>Student ID:</source>
        <translation>학번:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="178"/>
        <source>Name:</source>
        <translation>이름:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="180"/>
        <source>Distance:</source>
        <translation>거리:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="187"/>
        <source>Result</source>
        <translation>인식 결과</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="196"/>
        <source>Marking</source>
        <translation>출석 처리</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="197"/>
        <source>Ask the student to confirm (Yes/No)</source>
        <translation>학생에게 확인받기 (예/아니요)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="212"/>
        <source>recognitions in a row</source>
        <translation>번 인식되면 출석</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="219"/>
        <source>Check-ins on this PC</source>
        <translation>이 PC의 출석 기록</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="272"/>
        <source>Source: %1 · local face detector: %2</source>
        <translation>입력: %1 · 얼굴 검출기: %2</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="287"/>
        <source>The video source cannot be used:
%1</source>
        <translation>영상 입력을 사용할 수 없습니다:
%1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="288"/>
        <source>Video source: %1</source>
        <translation>영상 입력: %1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="306"/>
        <source>Enter the lecture code at the top to start the check-in.</source>
        <translation>출석을 시작하려면 위에 강의 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="329"/>
        <source>No face recognized. Look straight at the camera.</source>
        <translation>얼굴을 인식하지 못했습니다. 카메라를 똑바로 보세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="332"/>
        <source>Unknown face: not on this lecture&apos;s roster. Not marked.</source>
        <translation>알 수 없는 얼굴: 이 강의의 수강생이 아닙니다. 출석 처리하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="333"/>
        <source>Unknown face (distance %1)</source>
        <translation>알 수 없는 얼굴 (거리 %1)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="336"/>
        <source>%1 is already checked in.</source>
        <translation>%1 학생은 이미 출석했습니다.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="340"/>
        <source>Is this you? Press Yes to check in.</source>
        <translation>본인이 맞습니까? 출석하려면 예를 누르세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="344"/>
        <source>Recognized %1 of %2 times. Keep looking at the camera.</source>
        <translation>%2번 중 %1번 인식했습니다. 카메라를 계속 보세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="393"/>
        <source>Not marked. Step up to the camera again.</source>
        <translation>출석 처리하지 않았습니다. 다시 카메라 앞에 서세요.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="400"/>
        <source>No answer: not marked.</source>
        <translation>응답이 없어 출석 처리하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="418"/>
        <source>Checked in: %1</source>
        <translation>출석 완료: %1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="419"/>
        <source>sending…</source>
        <translation>보내는 중…</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="443"/>
        <source>already marked (%1)</source>
        <translation>이미 기록됨 (%1)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="445"/>
        <source>checked in ✓</source>
        <translation>출석 ✓</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="452"/>
        <source>refused by the server (%1)</source>
        <translation>서버가 거부함 (%1)</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="461"/>
        <source>pending: saved on this PC, will be sent</source>
        <translation>대기 중: 이 PC에 저장됨, 자동으로 보냄</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="476"/>
        <source>unknown</source>
        <translation>알 수 없음</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="477"/>
        <source>Unknown</source>
        <translation>알 수 없음</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="198"/>
        <source>Automatic:</source>
        <translation>자동:</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="210"/>
        <source>mark after</source>
        <translation>연속</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="279"/>
        <source>camera %1</source>
        <translation>카메라 %1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="280"/>
        <source>video file %1</source>
        <translation>영상 파일 %1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="281"/>
        <source>image folder %1</source>
        <translation>이미지 폴더 %1</translation>
    </message>
    <message>
        <location filename="../checkin.py" line="291"/>
        <source>finished</source>
        <translation>끝</translation>
    </message>
</context>
<context>
    <name>ConnectionDialog</name>
    <message>
        <location filename="../app.py" line="73"/>
        <source>Connection settings</source>
        <translation>연결 설정</translation>
    </message>
    <message>
        <location filename="../app.py" line="82"/>
        <source>Server host:</source>
        <translation>서버 주소:</translation>
    </message>
    <message>
        <location filename="../app.py" line="83"/>
        <source>Port:</source>
        <translation>포트:</translation>
    </message>
    <message>
        <location filename="../app.py" line="85"/>
        <source>The classroom PC and the professor&apos;s PC talk to the same attendance server.</source>
        <translation>강의실 PC와 교수용 PC는 같은 출석 서버에 연결합니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="80"/>
        <source>from attendance-db add-client</source>
        <translation>attendance-db add-client 로 받은 토큰</translation>
    </message>
    <message>
        <location filename="../app.py" line="84"/>
        <source>Client token:</source>
        <translation>클라이언트 토큰:</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <location filename="../app.py" line="117"/>
        <source>Lecture attendance</source>
        <translation>강의 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="129"/>
        <source>Face check-in</source>
        <translation>얼굴 인식 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="130"/>
        <source>Roll call</source>
        <translation>호명 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="181"/>
        <source>Lecture</source>
        <translation>강의</translation>
    </message>
    <message>
        <location filename="../app.py" line="184"/>
        <source>Lecture code:</source>
        <translation>강의 코드:</translation>
    </message>
    <message>
        <location filename="../app.py" line="191"/>
        <source>Connection settings…</source>
        <translation>연결 설정…</translation>
    </message>
    <message>
        <location filename="../app.py" line="195"/>
        <source>&amp;File</source>
        <translation>파일(&amp;F)</translation>
    </message>
    <message>
        <location filename="../app.py" line="198"/>
        <source>&amp;Quit</source>
        <translation>종료(&amp;Q)</translation>
    </message>
    <message>
        <location filename="../app.py" line="202"/>
        <source>&amp;Help</source>
        <translation>도움말(&amp;H)</translation>
    </message>
    <message>
        <location filename="../app.py" line="203"/>
        <source>&amp;About</source>
        <translation>정보(&amp;A)</translation>
    </message>
    <message>
        <location filename="../app.py" line="208"/>
        <source>About</source>
        <translation>정보</translation>
    </message>
    <message>
        <location filename="../app.py" line="208"/>
        <source>Lecture attendance by face recognition.
Face check-in for the classroom PC and roll call for the professor.</source>
        <translation>얼굴 인식 강의 출석.
강의실 PC의 얼굴 인식 출석과 교수용 호명 출석.</translation>
    </message>
    <message>
        <location filename="../app.py" line="230"/>
        <source>%1 is not a lecture code (like ea0017_1).</source>
        <translation>%1은(는) 강의 코드가 아닙니다 (예: ea0017_1).</translation>
    </message>
    <message>
        <location filename="../app.py" line="275"/>
        <source>● Connected to %1</source>
        <translation>● 연결됨: %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="277"/>
        <source>○ Server %1</source>
        <translation>○ 서버 %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="279"/>
        <source>● %1 is not answering</source>
        <translation>● %1 응답 없음</translation>
    </message>
    <message>
        <location filename="../app.py" line="281"/>
        <source>● Server unreachable: %1</source>
        <translation>● 서버에 연결할 수 없음: %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="292"/>
        <source>Marks pending: %1</source>
        <translation>전송 대기 중인 출석: %1</translation>
    </message>
    <message>
        <location filename="../app.py" line="310"/>
        <source>The server refused a mark (%1: %2); it was moved to the rejected log.</source>
        <translation>서버가 출석 기록을 거부했습니다 (%1: %2). 거부 기록 파일로 옮겼습니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="318"/>
        <source>Cannot save marks</source>
        <translation>출석 기록을 저장할 수 없음</translation>
    </message>
    <message>
        <location filename="../app.py" line="318"/>
        <source>The queue of unsent marks cannot be written (%1). Marks are kept in memory only until the server confirms them.</source>
        <translation>보내지 못한 출석 기록의 대기열 파일을 쓸 수 없습니다 (%1). 서버가 확인할 때까지 메모리에만 보관합니다.</translation>
    </message>
    <message>
        <location filename="../app.py" line="332"/>
        <source>Marks not sent yet</source>
        <translation>아직 보내지 못한 출석</translation>
    </message>
    <message>
        <location filename="../app.py" line="332"/>
        <source>Marks the server has not confirmed yet: %1. They are saved on this computer and will be sent the next time the app starts. Quit anyway?</source>
        <translation>서버가 아직 확인하지 않은 출석 기록: %1. 이 컴퓨터에 저장되어 있으며 다음에 프로그램을 시작할 때 보냅니다. 그래도 종료하시겠습니까?</translation>
    </message>
    <message>
        <location filename="../app.py" line="359"/>
        <source>Roll call not finished</source>
        <translation>호명 출석이 끝나지 않음</translation>
    </message>
    <message>
        <location filename="../app.py" line="359"/>
        <source>Roll call changes not sent: %1 (press Finish to send them). Quit and discard them?</source>
        <translation>보내지 않은 호명 출석 변경: %1 (보내려면 완료를 누르세요). 버리고 종료하시겠습니까?</translation>
    </message>
    <message>
        <location filename="../app.py" line="132"/>
        <source>Report</source>
        <translation>보고서</translation>
    </message>
    <message>
        <location filename="../app.py" line="136"/>
        <source>Classroom camera</source>
        <translation>강의실 카메라</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <location filename="../messages.py" line="13"/>
        <source>Cannot reach the attendance server at %1. Check that it is running and the connection settings (File &gt; Connection settings).</source>
        <translation>출석 서버 %1에 연결할 수 없습니다. 서버가 실행 중인지와 연결 설정(파일 &gt; 연결 설정)을 확인하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="18"/>
        <source>The attendance server at %1 did not answer in time.</source>
        <translation>출석 서버 %1이(가) 제시간에 응답하지 않았습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="22"/>
        <source>The program at %1 does not speak the attendance protocol (%2).</source>
        <translation>%1의 프로그램은 출석 프로토콜을 사용하지 않습니다 (%2).</translation>
    </message>
    <message>
        <location filename="../messages.py" line="26"/>
        <source>The server does not know this lecture code.</source>
        <translation>서버에 없는 강의 코드입니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="27"/>
        <source>This student is not on the lecture&apos;s roster.</source>
        <translation>이 학생은 강의 수강생 명단에 없습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="28"/>
        <source>The server could not read the picture.</source>
        <translation>서버가 사진을 읽지 못했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="29"/>
        <source>The server cannot reach its database; try again in a moment.</source>
        <translation>서버가 데이터베이스에 연결할 수 없습니다. 잠시 후 다시 시도하세요.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="30"/>
        <source>The server refused the request as invalid.</source>
        <translation>서버가 잘못된 요청으로 거부했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="31"/>
        <source>The server took too long to answer.</source>
        <translation>서버 응답이 너무 오래 걸렸습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="32"/>
        <source>The server had an internal error.</source>
        <translation>서버 내부 오류가 발생했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="39"/>
        <source>The server answered with an error.</source>
        <translation>서버가 오류로 응답했습니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="33"/>
        <source>The server does not accept this PC&apos;s client token. Enter the token from attendance-db add-client in File &gt; Connection settings; marks wait until then.</source>
        <translation>서버가 이 PC의 클라이언트 토큰을 받지 않습니다. 파일 &gt; 연결 설정에서 attendance-db add-client 로 받은 토큰을 입력하세요. 그때까지 출석 기록은 보관됩니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="36"/>
        <source>Too many requests; the server asks to slow down.</source>
        <translation>요청이 너무 많습니다. 서버가 잠시 후에 보내 달라고 합니다.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="37"/>
        <source>The server is busy; try again in a moment.</source>
        <translation>서버가 바쁩니다. 잠시 후에 다시 시도하세요.</translation>
    </message>
</context>
<context>
    <name>ReportModel</name>
    <message>
        <location filename="../report_model.py" line="34"/>
        <source>Not enrolled yet</source>
        <translation>수강 등록 전</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="36"/>
        <source>Open, not marked yet</source>
        <translation>진행 중, 아직 표시 안 됨</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="38"/>
        <source>Absent (or not marked)</source>
        <translation>결석 (또는 표시 안 됨)</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="147"/>
        <source>Student ID</source>
        <translation>학번</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="149"/>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="157"/>
        <source>Rate %</source>
        <translation>출석률 %</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="166"/>
        <source>open (unmarked students are blank)</source>
        <translation>진행 중 (표시 안 된 학생은 빈칸)</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="167"/>
        <source>session rate: %1</source>
        <translation>회차 출석률: %1</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="170"/>
        <source>Attendance rate in percent: (P + %1 × (L + O)) / (P + L + O + A)</source>
        <translation>출석률(%): (P + %1 × (L + O)) / (P + L + O + A)</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="173"/>
        <source>Sessions: %1</source>
        <translation>회차 수: %1</translation>
    </message>
    <message>
        <location filename="../report_model.py" line="218"/>
        <source>Below %1 %</source>
        <translation>%1 % 미만</translation>
    </message>
</context>
<context>
    <name>ReportScreen</name>
    <message>
        <location filename="../report_view.py" line="225"/>
        <source>&amp;Refresh</source>
        <translation>새로 고침(&amp;R)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="227"/>
        <source>&amp;Save as CSV/XLSX…</source>
        <translation>CSV/XLSX로 저장(&amp;S)…</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="235"/>
        <source>From</source>
        <translation>시작일</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="237"/>
        <source>to</source>
        <translation>종료일</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="240"/>
        <source>Unchecked: no limit</source>
        <translation>선택하지 않으면 제한 없음</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="249"/>
        <source>What a late or left-early session counts for in the rate (0 to 1)</source>
        <translation>지각·조퇴 1회가 출석률에서 출석 몇 회로 계산되는지 (0~1)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="257"/>
        <source>Students whose attendance rate is under this are listed and highlighted</source>
        <translation>출석률이 이 값보다 낮은 학생을 목록으로 보여 주고 표에서 강조합니다</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="265"/>
        <source>Late weight:</source>
        <translation>지각 가중치:</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="268"/>
        <source>Warn below:</source>
        <translation>경고 기준:</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="291"/>
        <source>The chart appears here once a report is loaded.</source>
        <translation>보고서를 불러오면 여기에 차트가 나타납니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="345"/>
        <source>Enter the lecture code at the top to see its report.</source>
        <translation>보고서를 보려면 위에 강의 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="349"/>
        <source>The start date is after the end date.</source>
        <translation>시작일이 종료일보다 늦습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="356"/>
        <source>Loading the report of %1…</source>
        <translation>%1 보고서를 불러오는 중…</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="393"/>
        <source>No chart: nothing to draw.</source>
        <translation>차트 없음: 그릴 내용이 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="406"/>
        <source>There is no lecture %1 on the server. Check the lecture code.</source>
        <translation>서버에 %1 강의가 없습니다. 강의 코드를 확인하세요.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="413"/>
        <source>The table shows the report loaded before.</source>
        <translation>표는 전에 불러온 보고서입니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="414"/>
        <source>Report of %1</source>
        <translation>%1 보고서</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="441"/>
        <source>%1 · %2 sessions, %3 to %4 · %5 students</source>
        <translation>%1 · %2회, %3 ~ %4 · 학생 %5명</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="464"/>
        <source>No students are enrolled in %1.</source>
        <translation>%1에 수강 등록된 학생이 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="467"/>
        <source>%1 has no session in this date range.</source>
        <translation>이 기간에는 %1의 수업 회차가 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="468"/>
        <source>%1 has no sessions yet.</source>
        <translation>%1에는 아직 수업 회차가 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="483"/>
        <source>P present, L late, A absent (or not marked), E excused, O left early, - not enrolled yet, blank: session still open. Rate % = (P + %1 × (L + O)) / (P + L + O + A); excused sessions do not count.</source>
        <translation>P 출석, L 지각, A 결석(또는 표시 안 됨), E 공결, O 조퇴, - 수강 등록 전, 빈칸: 진행 중인 회차. 출석률 % = (P + %1 × (L + O)) / (P + L + O + A); 공결은 계산에 넣지 않습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="504"/>
        <source>No student is below %1 %.</source>
        <translation>%1 % 미만인 학생이 없습니다.</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="508"/>
        <source>and %1 more (highlighted in the table)</source>
        <translation>외 %1명 (표에 강조 표시)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="522"/>
        <source>Drawing the chart…</source>
        <translation>차트를 그리는 중…</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="534"/>
        <source>The chart cannot be drawn: %1</source>
        <translation>차트를 그릴 수 없습니다: %1</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="540"/>
        <source>Save the report</source>
        <translation>보고서 저장</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="540"/>
        <source>CSV file (*.csv);;Excel workbook (*.xlsx)</source>
        <translation>CSV 파일 (*.csv);;Excel 통합 문서 (*.xlsx)</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="567"/>
        <source>Cannot save %1: %2</source>
        <translation>%1을(를) 저장할 수 없습니다: %2</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="571"/>
        <source>Report saved: %1</source>
        <translation>보고서를 저장했습니다: %1</translation>
    </message>
    <message>
        <location filename="../report_view.py" line="510"/>
        <source>Students below %1 %: %2 — %3</source>
        <translation>출석률 %1 % 미만 학생: %2명 — %3</translation>
    </message>
</context>
<context>
    <name>RollCallScreen</name>
    <message>
        <location filename="../rollcall.py" line="109"/>
        <source>&amp;Refresh</source>
        <translation>새로 고침(&amp;R)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="135"/>
        <source>Present (P)</source>
        <translation>출석 (P)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="136"/>
        <source>Late (L)</source>
        <translation>지각 (L)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="137"/>
        <source>Absent (A)</source>
        <translation>결석 (A)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="138"/>
        <source>Excused (E)</source>
        <translation>공결 (E)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="147"/>
        <source>Undo change (Del)</source>
        <translation>변경 취소 (Del)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="153"/>
        <source>Mark all unmarked as Absent</source>
        <translation>미체크 학생 모두 결석 처리</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="156"/>
        <source>&amp;Finish</source>
        <translation>완료(&amp;F)</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="180"/>
        <source>Enter the lecture code at the top to load its roster.</source>
        <translation>수강생 명단을 불러오려면 위에 강의 코드를 입력하세요.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="183"/>
        <source>Loading the roster of %1…</source>
        <translation>%1 수강생 명단을 불러오는 중…</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="199"/>
        <source>Lecture %1 · session of %2</source>
        <translation>강의 %1 · %2 수업</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="211"/>
        <source>Lecture %1</source>
        <translation>강의 %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="245"/>
        <source>Unmarked students marked absent: %1</source>
        <translation>결석 처리한 미체크 학생: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="249"/>
        <source>Marked %1 of %2 · unmarked %3</source>
        <translation>%2명 중 %1명 체크 · 미체크 %3명</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="252"/>
        <source>not sent: %1</source>
        <translation>보내지 않음: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="254"/>
        <source>pending: %1</source>
        <translation>대기 중: %1</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="262"/>
        <source>Unmarked students</source>
        <translation>미체크 학생</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="262"/>
        <source>Students without a mark: %1. Send the roll call anyway?</source>
        <translation>출결이 체크되지 않은 학생: %1명. 그래도 보내시겠습니까?</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="276"/>
        <source>No changes to send.</source>
        <translation>보낼 변경 사항이 없습니다.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="286"/>
        <source>Sending the roll call (marks: %1)…</source>
        <translation>호명 출석을 보내는 중 (%1건)…</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="300"/>
        <source>Roll call saved (marks: %1).</source>
        <translation>호명 출석을 저장했습니다 (%1건).</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="305"/>
        <source>Marks saved on this PC, sent automatically when the server answers: %1.</source>
        <translation>이 PC에 저장되어 서버가 응답하면 자동으로 보낼 출석 기록: %1건.</translation>
    </message>
    <message>
        <location filename="../rollcall.py" line="312"/>
        <source>The server refused the roll call: %1</source>
        <translation>서버가 호명 출석을 거부했습니다: %1</translation>
    </message>
</context>
<context>
    <name>RosterModel</name>
    <message>
        <location filename="../roster_model.py" line="119"/>
        <source>No.</source>
        <translation>번호</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="120"/>
        <source>Student ID</source>
        <translation>학번</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="121"/>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="122"/>
        <source>Status</source>
        <translation>출결</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="123"/>
        <source>Marked by</source>
        <translation>처리 방법</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="124"/>
        <source>Time</source>
        <translation>시각</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="190"/>
        <source>Changed, not sent</source>
        <translation>변경됨, 보내지 않음</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="202"/>
        <source>Sent to the server when you press Finish</source>
        <translation>완료를 누르면 서버로 보냅니다</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="204"/>
        <source>Saved on this computer; sent again automatically until the server confirms it</source>
        <translation>이 컴퓨터에 저장됨. 서버가 확인할 때까지 자동으로 다시 보냅니다</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="206"/>
        <source>Recorded by the server</source>
        <translation>서버에 기록됨</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="207"/>
        <source>No mark yet</source>
        <translation>아직 기록 없음</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="192"/>
        <source>Pending: %1</source>
        <translation>대기 중: %1</translation>
    </message>
</context>
<context>
    <name>Status</name>
    <message>
        <location filename="../roster_model.py" line="35"/>
        <source>Present</source>
        <translation>출석</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="36"/>
        <source>Late</source>
        <translation>지각</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="37"/>
        <source>Absent</source>
        <translation>결석</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="38"/>
        <source>Excused</source>
        <translation>공결</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="39"/>
        <source>Left early</source>
        <translation>조퇴</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="42"/>
        <source>Unmarked</source>
        <translation>미체크</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="48"/>
        <source>Face check-in</source>
        <translation>얼굴 인식</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="49"/>
        <source>Roll call</source>
        <translation>호명</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="50"/>
        <source>Camera</source>
        <translation>카메라</translation>
    </message>
    <message>
        <location filename="../roster_model.py" line="51"/>
        <source>Manual</source>
        <translation>수동</translation>
    </message>
</context>
<context>
    <name>WatchScreen</name>
    <message>
        <location filename="../../watch/qt_screen.py" line="166"/>
        <source>Sample failed: %s</source>
        <translation>샘플 실패: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="167"/>
        <source>Stopped: %s</source>
        <translation>중지됨: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="170"/>
        <source>Stop</source>
        <translation>중지</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="208"/>
        <source>marked by: %s</source>
        <translation>기록 주체: %s</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="218"/>
        <source>Sample %d at %s: %d faces, %d known, %d encoded</source>
        <translation>샘플 %d (%s): 얼굴 %d개, 인식 %d명, 인코딩 %d개</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="238"/>
        <source>Session closed: present %d, late %d, left early %d, absent %d; kept %d marks by people</source>
        <translation>수업 종료: 출석 %d, 지각 %d, 조퇴 %d, 결석 %d; 사람이 남긴 기록 %d건 유지</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="279"/>
        <source>Start</source>
        <translation>시작</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="251"/>
        <source>Stopped</source>
        <translation>중지됨</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="252"/>
        <source>Finished after %d samples</source>
        <translation>샘플 %d개 후 종료</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="259"/>
        <source>Camera</source>
        <translation>카메라</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="259"/>
        <source>Video file</source>
        <translation>동영상 파일</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="263"/>
        <source>recorded lecture (.mp4, .avi)</source>
        <translation>녹화된 강의 (.mp4, .avi)</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="264"/>
        <source>Browse...</source>
        <translation>찾아보기...</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="278"/>
        <source> s</source>
        <translation> 초</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="281"/>
        <source>Close session</source>
        <translation>수업 종료</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="285"/>
        <source>every</source>
        <translation>간격</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="289"/>
        <source>No picture yet</source>
        <translation>아직 화면이 없습니다</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="294"/>
        <source>Student ID</source>
        <translation>학번</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="294"/>
        <source>Name</source>
        <translation>이름</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="294"/>
        <source>Seen</source>
        <translation>확인 시각</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="294"/>
        <source>Status</source>
        <translation>상태</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="309"/>
        <source>Recorded lecture</source>
        <translation>녹화된 강의</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="309"/>
        <source>Videos (*.mp4 *.avi *.mkv *.mov)</source>
        <translation>동영상 (*.mp4 *.avi *.mkv *.mov)</translation>
    </message>
    <message>
        <location filename="../../watch/qt_screen.py" line="328"/>
        <source>Server: %s</source>
        <translation>서버: %s</translation>
    </message>
</context>
</TS>
